//! Placeholder: Pošta Slovenije end to end is being written.
