//! Graph batches: flattening graphs of different sizes, CSR offsets, node-to-graph map.

use remul::data::{DataError, Dataset, GraphSet, GraphView};

/// Positions `[n, 3]` whose x coordinate encodes (graph, node) as `10 g + i`.
fn coords(g: usize, n: usize) -> Vec<f64> {
    (0..n)
        .flat_map(|i| [(10 * g + i) as f64, 0.5, -0.5])
        .collect()
}

/// Three graphs: a triangle-ish graph of 3 nodes, a 5-node ring plus one isolated node
/// (node 4 has no edge), and a single node.
fn three_graphs() -> GraphSet {
    let mut set = GraphSet::new(1, 2);
    let specs: [(usize, Vec<u32>, Vec<u32>); 3] = [
        (3, vec![1, 2, 0, 0], vec![0, 0, 1, 2]),
        (5, vec![0, 1, 2, 3, 1], vec![1, 2, 3, 0, 3]),
        (1, vec![], vec![]),
    ];
    for (g, (n, src, dst)) in specs.iter().enumerate() {
        let x = coords(g, *n);
        let scalars: Vec<f64> = (0..*n).map(|i| i as f64).collect();
        let edge_scalars: Vec<f64> = (0..src.len()).flat_map(|e| [e as f64, g as f64]).collect();
        set.push(&GraphView {
            positions: &x,
            velocities: &x,
            node_scalars: &scalars,
            targets: &x,
            src,
            dst,
            edge_scalars: &edge_scalars,
        })
        .unwrap();
    }
    set
}

#[test]
fn batch_of_graphs_with_3_5_and_1_nodes_has_consistent_offsets() {
    let set = three_graphs();
    let batch = set.batch(&[0, 1, 2]).unwrap();

    assert_eq!(batch.num_graphs(), 3);
    assert_eq!(batch.num_nodes(), 9);
    assert_eq!(batch.num_edges(), 9);
    assert_eq!(batch.graph_offsets, vec![0, 3, 8, 9]);
    assert_eq!(batch.node_graph, vec![0, 0, 0, 1, 1, 1, 1, 1, 2]);
    assert_eq!(batch.samples, vec![0, 1, 2]);
    assert_eq!(batch.positions.len(), 27);
    assert_eq!(batch.node_scalars.len(), 9);
    assert_eq!(batch.edge_scalars.len(), 18);

    // Destinations are sorted, and the CSR offsets select exactly the edges into each node.
    assert!(batch.dst.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(batch.dst_offsets.len(), 10);
    for node in 0..9 {
        let (a, b) = (batch.dst_offsets[node], batch.dst_offsets[node + 1]);
        assert!((a..b).all(|e| batch.dst[e as usize] == node as u32));
    }
    assert_eq!(*batch.dst_offsets.last().unwrap(), 9);

    // Graph 1 is shifted by 3 nodes: its edge 1 -> 3 becomes 4 -> 6, and its node 4
    // (global 7) and the single node of graph 2 (global 8) receive nothing.
    assert!(batch
        .src
        .iter()
        .zip(&batch.dst)
        .any(|(&s, &d)| (s, d) == (4, 6)));
    assert_eq!(batch.dst_offsets[7], batch.dst_offsets[8]);
    assert_eq!(batch.dst_offsets[8], batch.dst_offsets[9]);

    // Every edge stays inside its graph.
    for (&s, &d) in batch.src.iter().zip(&batch.dst) {
        assert_eq!(batch.node_graph[s as usize], batch.node_graph[d as usize]);
    }

    // Node data is in graph order: x = 10 g + local index.
    let xs: Vec<f32> = batch.positions.chunks(3).map(|p| p[0]).collect();
    assert_eq!(xs, vec![0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 13.0, 14.0, 20.0]);
}

#[test]
fn batch_follows_the_requested_order() {
    let set = three_graphs();
    let batch = set.batch(&[2, 0]).unwrap();
    assert_eq!(batch.graph_offsets, vec![0, 1, 4]);
    assert_eq!(batch.samples, vec![2, 0]);
    assert_eq!(batch.positions[0], 20.0);
    // Graph 0's edges now start at node 1.
    assert_eq!(batch.dst_offsets, vec![0, 0, 2, 3, 4]);
    assert_eq!(batch.src, vec![2, 3, 1, 1]);
}

#[test]
fn batch_of_an_out_of_range_index_is_an_error() {
    let set = three_graphs();
    let err = set.batch(&[0, 3]).unwrap_err();
    assert!(matches!(
        err,
        DataError::IndexOutOfRange { index: 3, len: 3 }
    ));
    assert!(err.to_string().contains("3 graphs"), "{err}");
}

#[test]
fn graph_with_an_edge_to_a_missing_node_is_rejected() {
    let mut set = GraphSet::new(0, 0);
    let x = [0.0; 6];
    let err = set
        .push(&GraphView {
            positions: &x,
            velocities: &x,
            node_scalars: &[],
            targets: &x,
            src: &[0],
            dst: &[2],
            edge_scalars: &[],
        })
        .unwrap_err();
    assert!(err.to_string().contains("edge endpoint 2"), "{err}");
    assert!(set.is_empty());
}

#[test]
fn batch_into_reuses_a_batch_without_leftovers() {
    let set = three_graphs();
    let mut batch = set.batch(&[0, 1, 2]).unwrap();
    set.batch_into(&[2], &mut batch).unwrap();
    assert_eq!(batch, set.batch(&[2]).unwrap());
    assert_eq!(batch.num_nodes(), 1);
    assert_eq!(batch.dst_offsets, vec![0, 0]);
}
