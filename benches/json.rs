//! Backend body decoding and wire-form encoding: sonic-rs (ours) against simd-json and serde_json, and the one-pass
//! transcoder (`encoding::canonical`) against decoding and writing a tree.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ringway::encoding::canonical::Transcoder;
use ringway::encoding::{decode_json, write_value};

/// A deterministic API-style response of at least `size` bytes: a page of user records.
fn api_body(size: usize) -> Vec<u8> {
    let mut users = Vec::new();
    let mut i = 0u64;
    let mut len = 0;
    while len < size {
        let user = format!(
            r#"{{"id":{i},"name":"User Number {i}","username":"user_{i}","email":"user{i}@example.org","active":{},"score":{}.{:02},"address":{{"street":"{} Kulas Light","suite":"Apt. {}","city":"Gwenborough","zipcode":"92998-{:04}","geo":{{"lat":"-37.{:04}","lng":"81.{:04}"}}}},"tags":["alpha","beta <&> gamma","\u00e9t\u00e9"],"company":{{"name":"Romaguera-Crona","catchPhrase":"Multi-layered client-server neural-net","bs":"harness real-time e-markets"}},"bio":"line one\nline two\t\"quoted\"","manager":null}}"#,
            i % 3 == 0,
            i * 7 % 100,
            i * 13 % 100,
            i * 31 % 1000,
            i % 900,
            i * 17 % 10000,
            i * 19 % 10000,
            i * 23 % 10000,
        );
        len += user.len() + 1;
        users.push(user);
        i += 1;
    }
    format!(r#"{{"data":[{}],"page":1,"per_page":{i},"total":12345678901234567890}}"#, users.join(",")).into_bytes()
}

const SIZES: [(&str, usize); 3] = [("1KB", 1 << 10), ("10KB", 10 << 10), ("100KB", 100 << 10)];

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for (name, size) in SIZES {
        let body = api_body(size);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("sonic_rs_rawnum", name), &body, |b, body| {
            b.iter(|| decode_json(black_box(body), false).expect("valid"))
        });
        group.bench_with_input(BenchmarkId::new("simd_json_borrowed", name), &body, |b, body| {
            b.iter(|| {
                // simd-json parses in place: a shared `Bytes` body would have to be copied first.
                let mut copy = black_box(body).clone();
                let v = simd_json::to_borrowed_value(&mut copy).expect("valid");
                black_box(&v);
            })
        });
        group.bench_with_input(BenchmarkId::new("simd_json_tape", name), &body, |b, body| {
            b.iter(|| {
                let mut copy = black_box(body).clone();
                let t = simd_json::to_tape(&mut copy).expect("valid");
                black_box(&t);
            })
        });
        group.bench_with_input(BenchmarkId::new("serde_json_value", name), &body, |b, body| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)).expect("valid"))
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    for (name, size) in SIZES {
        let body = api_body(size);
        let value = decode_json(&body, false).expect("valid").expect("object");
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("write_value", name), &value, |b, value| {
            let mut out = Vec::with_capacity(body.len());
            b.iter(|| {
                out.clear();
                write_value(&mut out, black_box(value));
                black_box(out.len())
            })
        });
        group.bench_with_input(BenchmarkId::new("decode_and_write", name), &body, |b, body| {
            let mut out = Vec::with_capacity(body.len());
            b.iter(|| {
                out.clear();
                let v = decode_json(black_box(body), false).expect("valid").expect("object");
                write_value(&mut out, &v);
                black_box(out.len())
            })
        });
        group.bench_with_input(BenchmarkId::new("transcode", name), &body, |b, body| {
            let mut out = Vec::with_capacity(body.len());
            let mut transcoder = Transcoder::default();
            b.iter(|| {
                out.clear();
                transcoder.transcode(black_box(body), &mut out).expect("an object");
                black_box(out.len())
            })
        });
        // A backend that already sorts its keys: nothing is reordered.
        let sorted = {
            let mut out = Vec::new();
            write_value(&mut out, &value);
            out
        };
        group.bench_with_input(BenchmarkId::new("transcode_sorted_input", name), &sorted, |b, body| {
            let mut out = Vec::with_capacity(body.len());
            let mut transcoder = Transcoder::default();
            b.iter(|| {
                out.clear();
                transcoder.transcode(black_box(body), &mut out).expect("an object");
                black_box(out.len())
            })
        });
        group.bench_with_input(BenchmarkId::new("decode_and_write_sorted_input", name), &sorted, |b, body| {
            let mut out = Vec::with_capacity(body.len());
            b.iter(|| {
                out.clear();
                let v = decode_json(black_box(body), false).expect("valid").expect("object");
                write_value(&mut out, &v);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
