//! Drawing a valid topology: [`view`] turns it into clusters, vertices and edges that know
//! nothing of any output format; [`dot`] and [`mermaid`] print that view.

pub mod dot;
pub mod mermaid;
pub mod view;

#[cfg(test)]
mod props;

pub use view::View;
