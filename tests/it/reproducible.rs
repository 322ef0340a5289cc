//! Results reproducible to the bit (issue 22, item 6): one dataset, two reports with 1 and with 4
//! target partitions, every exported file compared byte for byte.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{bibflow_ok, files_under};

/// Every file under `dir` (relative path -> bytes), `index.html` left out: it shows how long
/// each query took.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = files_under(dir);
    out.remove("index.html");
    out
}

#[test]
fn reports_with_1_and_4_target_partitions_are_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("corpus");
    let data_s = data.to_str().unwrap();
    bibflow_ok(&[
        "--quiet", "generate", "--works", "30000", "--seed", "11", "--out", data_s,
    ]);
    let report = |partitions: &str| {
        let out = tmp.path().join(format!("report-{partitions}"));
        bibflow_ok(&[
            "--quiet",
            "report",
            "--dataset",
            data_s,
            "--out",
            out.to_str().unwrap(),
            "--target-partitions",
            partitions,
        ]);
        files(&out)
    };
    let one = report("1");
    let four = report("4");
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        four.keys().collect::<Vec<_>>(),
        "the two reports have different files"
    );
    assert!(
        one.keys().any(|k| k.ends_with(".parquet")) && one.keys().any(|k| k.ends_with(".csv")),
        "no exports: {:?}",
        one.keys()
    );
    let differ: Vec<&String> = one
        .iter()
        .filter(|(k, v)| four[k.as_str()] != **v)
        .map(|(k, _)| k)
        .collect();
    // For a CSV that differs, its first differing line, to show the digits.
    let first_diff = differ
        .iter()
        .filter(|k| k.ends_with(".csv"))
        .map(|k| {
            let (a, b) = (
                String::from_utf8_lossy(&one[k.as_str()]).into_owned(),
                String::from_utf8_lossy(&four[k.as_str()]).into_owned(),
            );
            let line = a.lines().zip(b.lines()).find(|(x, y)| x != y);
            format!("{k}: {line:?}")
        })
        .collect::<Vec<_>>();
    assert!(
        differ.is_empty(),
        "files differ between 1 and 4 target partitions: {differ:?}\n{}",
        first_diff.join("\n")
    );
}
