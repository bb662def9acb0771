//! Shuffled epochs streamed from a worker thread.

use std::sync::Arc;

use remul::data::{epoch_order, BatchStream, Dataset, GraphSet, GraphView, StreamConfig};

/// `count` single-edge graphs of 2 nodes whose first x coordinate is the graph's index.
fn numbered_graphs(count: usize) -> Arc<GraphSet> {
    let mut set = GraphSet::new(1, 1);
    for i in 0..count {
        let x = [i as f64, 0.0, 0.0, i as f64, 1.0, 0.0];
        set.push(&GraphView {
            positions: &x,
            velocities: &x,
            node_scalars: &[1.0, 2.0],
            targets: &x,
            src: &[0],
            dst: &[1],
            edge_scalars: &[3.0],
        })
        .unwrap();
    }
    Arc::new(set)
}

#[test]
fn epoch_order_is_a_permutation_fixed_by_seed_and_epoch() {
    let a = epoch_order(100, 1, 0, true);
    let mut sorted = a.clone();
    sorted.sort();
    assert_eq!(sorted, (0..100).collect::<Vec<_>>());
    assert_eq!(a, epoch_order(100, 1, 0, true));
    assert_ne!(a, epoch_order(100, 1, 1, true));
    assert_ne!(a, epoch_order(100, 2, 0, true));
    assert_eq!(epoch_order(5, 1, 0, false), vec![0, 1, 2, 3, 4]);
}

#[test]
fn stream_visits_every_graph_once_with_a_partial_last_batch() {
    let data = numbered_graphs(23);
    let config = StreamConfig {
        batch_size: 5,
        seed: 9,
        ..StreamConfig::default()
    };
    let stream = BatchStream::new(data.clone(), &config, 3).unwrap();
    assert_eq!(stream.len(), 5);
    let batches: Vec<_> = stream.map(|b| b.unwrap()).collect();
    let sizes: Vec<_> = batches.iter().map(|b| b.num_graphs()).collect();
    assert_eq!(sizes, vec![5, 5, 5, 5, 3]);

    let seen: Vec<usize> = batches.iter().flat_map(|b| b.samples.clone()).collect();
    assert_eq!(seen, epoch_order(23, 9, 3, true));
    // Each batch holds exactly what a direct batch() call gives.
    for b in &batches {
        assert_eq!(b, &data.batch(&b.samples).unwrap());
        assert_eq!(b.positions[0], b.samples[0] as f32);
    }
}

#[test]
fn drop_last_drops_the_partial_batch() {
    let data = numbered_graphs(23);
    let config = StreamConfig {
        batch_size: 5,
        drop_last: true,
        prefetch: 1,
        ..StreamConfig::default()
    };
    let sizes: Vec<_> = BatchStream::new(data, &config, 0)
        .unwrap()
        .map(|b| b.unwrap().num_graphs())
        .collect();
    assert_eq!(sizes, vec![5, 5, 5, 5]);
}

#[test]
fn dropping_a_stream_early_stops_its_worker() {
    let data = numbered_graphs(1000);
    let config = StreamConfig {
        batch_size: 1,
        ..StreamConfig::default()
    };
    let mut stream = BatchStream::new(data, &config, 0).unwrap();
    let first = stream.next().unwrap().unwrap();
    stream.recycle(first);
    drop(stream); // Would hang here if the worker kept blocking on a full channel.
}

#[test]
fn recycled_batches_do_not_change_the_contents() {
    let data = numbered_graphs(10);
    let config = StreamConfig {
        batch_size: 3,
        seed: 4,
        prefetch: 1,
        ..StreamConfig::default()
    };
    let mut stream = BatchStream::new(data.clone(), &config, 1).unwrap();
    let mut seen = Vec::new();
    while let Some(batch) = stream.next() {
        let batch = batch.unwrap();
        assert_eq!(batch, data.batch(&batch.samples).unwrap());
        seen.extend_from_slice(&batch.samples);
        stream.recycle(batch);
    }
    assert_eq!(seen, epoch_order(10, 4, 1, true));
}

#[test]
fn zero_batch_size_is_a_config_error() {
    let config = StreamConfig {
        batch_size: 0,
        ..StreamConfig::default()
    };
    let err = BatchStream::new(numbered_graphs(3), &config, 0)
        .err()
        .unwrap();
    assert!(err.to_string().contains("batch_size"), "{err}");
}
