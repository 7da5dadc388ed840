//! The task definitions of the inventory and their containers, by ARN and by container id.

use std::collections::BTreeMap;

use super::World;
use crate::model;

/// A task definition with the account, region and partition it was collected in.
#[derive(Clone, Copy, Debug)]
pub struct TaskPlace<'a> {
    /// The task definition.
    pub definition: &'a model::TaskDefinition,
    /// Its account.
    pub account: &'a str,
    /// Its region.
    pub region: &'a str,
    /// Its partition.
    pub partition: &'a str,
}

/// The node id of a container: its task definition's ARN and its name, joined by `#`.
pub fn container_id(task_definition: &str, container: &str) -> String {
    format!("{task_definition}#{container}")
}

/// Task definitions by ARN, and containers by node id.
#[derive(Default)]
pub(in crate::graph) struct Tasks<'a> {
    pub(in crate::graph) by_arn: BTreeMap<&'a str, TaskPlace<'a>>,
    containers: BTreeMap<String, (&'a str, usize)>,
}

impl<'a> Tasks<'a> {
    pub(in crate::graph) fn index(inventory: &'a model::Inventory) -> Tasks<'a> {
        let mut tasks = Tasks::default();
        for account in &inventory.accounts {
            for (region, r) in &account.regions {
                for td in r
                    .ecs
                    .iter()
                    .flat_map(|e| e.task_definitions.iter().flatten())
                {
                    // A definition listed twice (two regions of one snapshot cannot share an
                    // ARN, but a hand-written one might) keeps its last copy, as before.
                    tasks.by_arn.insert(
                        &td.arn,
                        TaskPlace {
                            definition: td,
                            account: &account.id,
                            region,
                            partition: &account.partition,
                        },
                    );
                }
            }
        }
        for (arn, place) in &tasks.by_arn {
            for (i, c) in place.definition.containers.iter().enumerate() {
                tasks
                    .containers
                    .insert(container_id(arn, &c.name), (arn, i));
            }
        }
        tasks
    }
}

impl<'a> World<'a> {
    /// The task definitions of the inventory, by ARN.
    pub fn task_definitions(&self) -> impl Iterator<Item = (&'a str, TaskPlace<'a>)> + '_ {
        self.tasks.by_arn.iter().map(|(arn, place)| (*arn, *place))
    }

    /// A task definition by ARN.
    pub fn task_definition(&self, arn: &str) -> Option<TaskPlace<'a>> {
        self.tasks.by_arn.get(arn).copied()
    }

    /// A container by node id, with its task definition.
    pub fn container(&self, id: &str) -> Option<(TaskPlace<'a>, &'a model::ContainerDefinition)> {
        let &(arn, i) = self.tasks.containers.get(id)?;
        let place = *self.tasks.by_arn.get(arn)?;
        Some((place, place.definition.containers.get(i)?))
    }
}
