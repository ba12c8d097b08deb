//! Backend manipulation and the shallow merge, by backend count (as lura's `merging_benchmark_test.go`) and body
//! size. Inputs are decoded outside the measured closure; each iteration clones them (`iter_batched`), since
//! manipulation and merge consume their input.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use ringway::config::{BackendConfig, UrlPattern};
use ringway::merge::{merge_into, Manipulation};
use sonic_rs::Value;

fn backend() -> BackendConfig {
    BackendConfig {
        target: Some("data".to_owned()),
        deny: vec!["secret".to_owned(), "meta.internal".to_owned()],
        mapping: BTreeMap::from([("name".to_owned(), "title".to_owned())]),
        ..BackendConfig::with_defaults(UrlPattern { source: "/".to_owned(), parts: Vec::new() }, Vec::new())
    }
}

/// A body of about `bytes` bytes: `{"data":{"name":…,"secret":…,"meta":{…},"k<b>_<i>":{…},…}}`.
fn body(backend: usize, bytes: usize) -> Value {
    let mut s = format!(
        r#"{{"data":{{"name":"b{backend}","secret":"x","meta":{{"internal":1,"public":2}},"id{backend}":{backend}"#
    );
    let mut i = 0;
    while s.len() < bytes {
        s.push_str(&format!(r#","k{backend}_{i}":{{"n":{i},"s":"lorem ipsum dolor","l":[1,2.5,true,null]}}"#));
        i += 1;
    }
    s.push_str("}}");
    ringway::encoding::decode_json(s.as_bytes(), false).expect("valid json").expect("an object")
}

fn bench(c: &mut Criterion) {
    let manipulation = Manipulation::build(&backend()).expect("valid config");
    for (label, size) in [("1KB", 1_000), ("10KB", 10_000), ("100KB", 100_000)] {
        let mut group = c.benchmark_group(format!("merge/{label}"));
        for n in [1usize, 2, 4, 8] {
            let inputs: Vec<Value> = (0..n).map(|b| body(b, size)).collect();
            group.bench_function(format!("manipulate+merge/{n}"), |b| {
                b.iter_batched(
                    || inputs.clone(),
                    |inputs| {
                        let mut acc = None;
                        for v in inputs {
                            if let Some(v) = manipulation.apply(Some(v)) {
                                merge_into(&mut acc, v);
                            }
                        }
                        black_box(acc)
                    },
                    BatchSize::SmallInput,
                )
            });
            group.bench_function(format!("merge-only/{n}"), |b| {
                b.iter_batched(
                    || inputs.clone(),
                    |inputs| {
                        let mut acc = None;
                        for v in inputs {
                            merge_into(&mut acc, v);
                        }
                        black_box(acc)
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
