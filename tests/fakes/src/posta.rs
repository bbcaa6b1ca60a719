//! Placeholder: the fake Pošta Slovenije eOddaja is being written.
