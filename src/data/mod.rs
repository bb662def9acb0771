//! Host-side datasets: simulators, `.npy` files, graph batches. No GPU types live here.
