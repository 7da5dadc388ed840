//! The synthetic organization generator: its output is a valid snapshot with the shapes the
//! benchmarks rely on (cross-account chains, ExternalId trusts, injected secrets, denied
//! references), and the same seed gives the same bytes.

use rolechain::analysis;
use rolechain::collect;
use rolechain::graph::{self, BuildOptions, EdgeKind, EdgeStatus, NodeKind};
use rolechain::synth::{self, Config};

fn tiny(seed: u64) -> Config {
    Config {
        accounts: 5,
        roles_per_account: 14,
        services_per_account: 5,
        resources_per_account: 12,
        seed,
    }
}

#[test]
fn same_seed_gives_same_bytes() {
    let (a, _) = synth::to_vec(&tiny(42)).unwrap();
    let (b, _) = synth::to_vec(&tiny(42)).unwrap();
    assert!(a == b, "two runs with seed 42 differ");
    let (c, _) = synth::to_vec(&tiny(43)).unwrap();
    assert!(a != c, "seeds 42 and 43 give the same organization");
}

#[test]
fn generated_org_loads_and_has_every_shape() {
    let config = tiny(7);
    let (bytes, summary) = synth::to_vec(&config).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let inventory = collect::load_str(&text, "synth.json").unwrap();
    assert_eq!(inventory.accounts.len(), config.accounts);
    assert!(
        summary.chains >= 1 && summary.external_id_hops >= 1,
        "{summary:?}"
    );

    let g = graph::build(&inventory, &BuildOptions::default());
    let roles = g
        .graph
        .node_weights()
        .filter(|n| n.kind == NodeKind::Role && n.in_snapshot)
        .count();
    assert_eq!(roles, summary.roles, "role ARNs repeat");
    let containers = analysis::containers(&g);
    assert_eq!(containers.len(), summary.containers);
    let paths = analysis::reach(&g, &containers, None, None);

    let chained = paths.iter().find(|p| {
        p.cross_account
            && p.hops
                .iter()
                .filter(|h| h.kind == EdgeKind::Assumes)
                .count()
                >= 2
    });
    assert!(
        chained.is_some(),
        "no container reaches a resource through a cross-account chain"
    );

    let external_id = paths.iter().find(|p| {
        p.status == EdgeStatus::Conditional
            && p.hops
                .iter()
                .flat_map(|h| h.conditions.iter())
                .any(|c| c.key.eq_ignore_ascii_case("sts:ExternalId"))
    });
    assert!(
        external_id.is_some(),
        "no path is conditional on an ExternalId"
    );

    let injected = paths.iter().find(|p| {
        p.status == EdgeStatus::Allowed
            && p.hops.len() == 1
            && p.hops[0].kind == EdgeKind::Injects
            && g.node(&p.target)
                .is_some_and(|(_, n)| n.kind == NodeKind::Secret)
    });
    assert!(injected.is_some(), "no container has a secret injected");

    let denied = g
        .graph
        .edge_weights()
        .any(|e| e.status == EdgeStatus::Denied && e.kind == EdgeKind::Injects);
    assert!(
        denied,
        "no task definition names a secret its execution role cannot read"
    );

    // The probes name nodes of the graph, and the probe secret has readers.
    let probes = synth::probes(&config).unwrap();
    let secret = analysis::lookup(&g, &probes.secret).unwrap();
    assert!(!analysis::who_can(&g, secret, None).is_empty());
    analysis::explain(
        &inventory,
        &g,
        &probes.container,
        &probes.unreachable,
        None,
        None,
    )
    .unwrap();
}
