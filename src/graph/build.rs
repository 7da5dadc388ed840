//! Building the graph from an inventory.
use super::AccessGraph;
use crate::model::Inventory;

/// Options for [`build`].
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// The actions to evaluate on resources; `None` means each resource type's defaults.
    pub actions: Option<Vec<String>>,
}

/// Builds the graph.
pub fn build(_inventory: &Inventory, _options: &BuildOptions) -> AccessGraph {
    AccessGraph::default()
}
