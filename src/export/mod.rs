//! Exports: Graphviz DOT, Mermaid and versioned JSON.
