//! Declarative suites: the model, the loader and `{{var}}` templates.

pub mod load;
pub mod model;
pub mod predicate;
pub mod template;

pub use load::{LoadError, load_file, load_paths, load_str};
pub use model::*;
