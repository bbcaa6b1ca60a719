//! Placeholder: the fake DPD EasyShip is being written.
