//! The synthetic organization generator of the `synth` example (`examples/synth/org/`): its
//! output is a valid snapshot with the shapes the benchmarks rely on (cross-account chains,
//! ExternalId trusts, injected secrets, denied references), the same seed gives the same bytes,
//! and a configuration that cannot be an organization is refused.

use rolechain::analysis;
use rolechain::collect;
use rolechain::graph::{self, BuildOptions, EdgeKind, EdgeStatus, NodeKind};

#[path = "../../examples/synth/org/mod.rs"]
pub(crate) mod org;

use org::{Config, SynthError};

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
    let (a, _) = org::to_vec(&tiny(42)).unwrap();
    let (b, _) = org::to_vec(&tiny(42)).unwrap();
    assert!(a == b, "two runs with seed 42 differ");
    let (c, _) = org::to_vec(&tiny(43)).unwrap();
    assert!(a != c, "seeds 42 and 43 give the same organization");
}

#[test]
fn generated_org_loads_and_has_every_shape() {
    let config = tiny(7);
    let (bytes, summary) = org::to_vec(&config).unwrap();
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
    let probes = org::probes(&config).unwrap();
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

#[test]
fn rejects_what_cannot_be_an_organization() {
    let ok = Config {
        accounts: 4,
        roles_per_account: 4,
        services_per_account: 1,
        resources_per_account: org::MIN_RESOURCES_PER_ACCOUNT,
        seed: 0,
    };
    assert!(org::to_vec(&ok).is_ok());
    let few = Config {
        accounts: 3,
        ..ok.clone()
    };
    assert!(matches!(
        org::to_vec(&few),
        Err(SynthError::TooFewAccounts(3))
    ));
    let none = Config {
        services_per_account: 0,
        ..ok.clone()
    };
    assert!(matches!(org::to_vec(&none), Err(SynthError::NoServices)));
    let small = Config {
        resources_per_account: 3,
        ..ok
    };
    assert!(matches!(
        org::to_vec(&small),
        Err(SynthError::TooFewResources(3))
    ));
}
