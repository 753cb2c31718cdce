//! `facematch-lab eval`: accuracy on a labelled pair list, as one JSON object.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use super::args::EvalArgs;
use super::{load_engine, print_json};
use crate::eval::{eer, rates_at, tar_at_far, Rates, Scored};
use facematch::calibration::cosine_for;
use facematch::domain::{Embedding, Role};
use facematch::inference::Engine;
use facematch::matching::compare;
use facematch::verify::analyse;

/// The printed result.
#[derive(Debug, Serialize)]
struct EvalReport {
    pairs: usize,
    genuine: usize,
    impostor: usize,
    /// Pairs where either picture had no usable face (never accepted).
    no_face: usize,
    /// Pictures without a usable face, with the reason.
    unusable_pictures: Vec<(String, String)>,
    threshold: f64,
    /// The SFace cosine the threshold stands for (the calibration's inverse), for comparing
    /// with pipelines that report cosines.
    threshold_cosine: f32,
    accuracy: f64,
    tar: f64,
    far: f64,
    #[serde(rename = "tar_at_far_1e-2")]
    tar_at_far_1e_2: f64,
    #[serde(rename = "tar_at_far_1e-3")]
    tar_at_far_1e_3: f64,
    #[serde(rename = "tar_at_far_1e-4")]
    tar_at_far_1e_4: f64,
    /// Impostor pairs accepted at the threshold.
    false_accepts: usize,
    eer: f64,
    /// Where the impostor pairs came from: "csv" or "all-cross-identity".
    impostor_source: &'static str,
    /// FAR/FRR at round thresholds, for choosing one.
    table: Vec<Rates>,
}

struct Row {
    a: PathBuf,
    b: PathBuf,
    same: bool,
}

/// Runs the subcommand.
///
/// # Errors
/// An unreadable CSV, a missing picture file, or a model failure.
pub fn run(args: EvalArgs) -> Result<()> {
    let doc_type = args.doc_type;
    let threshold = args.threshold.percent();
    let rows = read_pairs(&args.pairs)?;
    let mut engine = load_engine(&args.engine).context("loading the face models")?;
    let document = Role::Document(doc_type);

    // Every picture is analysed once per role it plays.
    let mut wanted: Vec<(PathBuf, Role)> = Vec::new();
    for row in &rows {
        wanted.push((row.a.clone(), Role::Selfie));
        wanted.push((row.b.clone(), document));
    }
    let identities = identities(&rows);
    if args.all_impostors {
        for path in identities.keys() {
            wanted.push((path.clone(), Role::Selfie));
            wanted.push((path.clone(), document));
        }
    }
    wanted.sort_by(|x, y| (&x.0, role_key(x.1)).cmp(&(&y.0, role_key(y.1))));
    wanted.dedup();
    let mut unusable = Vec::new();
    let mut embeddings: HashMap<(PathBuf, u8), Option<Embedding>> = HashMap::new();
    for (i, (path, role)) in wanted.iter().enumerate() {
        if i % 20 == 0 {
            eprintln!("eval: analysed {i}/{} pictures", wanted.len());
        }
        let embedding = embed(&mut engine, path, *role)?;
        if let Err(reason) = &embedding {
            unusable.push((format!("{} as {}", path.display(), role_name(*role)), reason.clone()));
        }
        embeddings.insert((path.clone(), role_key(*role)), embedding.ok());
    }
    let score = |a: &Path, b: &Path| -> Option<f64> {
        let ea = embeddings.get(&(a.to_path_buf(), role_key(Role::Selfie)))?.as_ref()?;
        let eb = embeddings.get(&(b.to_path_buf(), role_key(document)))?.as_ref()?;
        Some(compare(ea, eb).percent)
    };

    let mut scored: Vec<(PathBuf, PathBuf, Scored)> = Vec::new();
    for row in rows.iter().filter(|r| r.same || !args.all_impostors) {
        scored.push((
            row.a.clone(),
            row.b.clone(),
            Scored { percent: score(&row.a, &row.b), genuine: row.same },
        ));
    }
    if args.all_impostors {
        // Sorted, so that which picture plays the selfie is the same on every run.
        let mut paths: Vec<&PathBuf> = identities.keys().collect();
        paths.sort();
        for (i, a) in paths.iter().enumerate() {
            for b in &paths[i + 1..] {
                if identities[*a] != identities[*b] {
                    scored.push((
                        (*a).clone(),
                        (*b).clone(),
                        Scored { percent: score(a, b), genuine: false },
                    ));
                }
            }
        }
    }
    let pairs: Vec<Scored> = scored.iter().map(|s| s.2).collect();
    if let Some(out) = &args.scores {
        write_scores(out, &scored).with_context(|| format!("writing {}", out.display()))?;
    }
    if let Some(dir) = &args.report {
        crate::report::write(dir, &pairs, threshold)
            .with_context(|| format!("writing the report to {}", dir.display()))?;
        eprintln!("eval: wrote {}/roc.svg and {}/scores.svg", dir.display(), dir.display());
    }
    let at = rates_at(&pairs, threshold);
    let report = EvalReport {
        pairs: pairs.len(),
        genuine: pairs.iter().filter(|p| p.genuine).count(),
        impostor: pairs.iter().filter(|p| !p.genuine).count(),
        no_face: pairs.iter().filter(|p| p.percent.is_none()).count(),
        unusable_pictures: unusable,
        threshold,
        threshold_cosine: cosine_for(threshold),
        accuracy: at.accuracy,
        tar: at.tar,
        far: at.far,
        tar_at_far_1e_2: tar_at_far(&pairs, 1e-2),
        tar_at_far_1e_3: tar_at_far(&pairs, 1e-3),
        tar_at_far_1e_4: tar_at_far(&pairs, 1e-4),
        false_accepts: pairs
            .iter()
            .filter(|p| !p.genuine && p.percent.is_some_and(|s| s >= threshold))
            .count(),
        eer: eer(&pairs),
        impostor_source: if args.all_impostors { "all-cross-identity" } else { "csv" },
        table: [50.0, 60.0, 70.0, 75.0, 80.0, 85.0, 90.0, 95.0]
            .iter()
            .map(|&t| rates_at(&pairs, t))
            .collect(),
    };
    print_json(&report);
    Ok(())
}

fn role_key(role: Role) -> u8 {
    match role {
        Role::Selfie => 0,
        Role::Document(_) => 1,
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Selfie => "selfie",
        Role::Document(_) => "document",
    }
}

/// The embedding of a picture, or why it has none.
fn embed(engine: &mut Engine, path: &Path, role: Role) -> Result<Result<Embedding, String>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let picture = match facematch::intake::decode(&bytes) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let analysis = analyse(&mut engine.detector, &mut engine.embedder, &picture, role)
        .with_context(|| format!("running the models on {}", path.display()))?;
    Ok(analysis.embedding.clone().ok_or_else(|| analysis.problem().unwrap_or_default()))
}

fn read_pairs(csv_path: &Path) -> Result<Vec<Row>> {
    let base = csv_path.parent().unwrap_or(Path::new("."));
    let mut reader = csv::Reader::from_path(csv_path)
        .with_context(|| format!("opening {}", csv_path.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| format!("{} has no column {name:?}", csv_path.display()))
    };
    let (ia, ib, is) = (column("a")?, column("b")?, column("same")?);
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{} row {}", csv_path.display(), n + 2))?;
        let field = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        let same = match field(is).as_str() {
            "1" | "true" | "True" => true,
            "0" | "false" | "False" => false,
            other => {
                bail!("{} row {}: same = {other:?}, expected 1 or 0", csv_path.display(), n + 2)
            }
        };
        rows.push(Row { a: base.join(field(ia)), b: base.join(field(ib)), same });
    }
    if rows.is_empty() {
        bail!("{} has no pairs", csv_path.display());
    }
    Ok(rows)
}

/// Identity number of every picture: pictures joined by a genuine pair share one.
fn identities(rows: &[Row]) -> HashMap<PathBuf, usize> {
    let mut parent: HashMap<PathBuf, PathBuf> = HashMap::new();
    fn root(parent: &mut HashMap<PathBuf, PathBuf>, p: &Path) -> PathBuf {
        let mut cur = p.to_path_buf();
        while let Some(next) = parent.get(&cur).filter(|n| **n != cur).cloned() {
            cur = next;
        }
        cur
    }
    for row in rows {
        parent.entry(row.a.clone()).or_insert_with(|| row.a.clone());
        parent.entry(row.b.clone()).or_insert_with(|| row.b.clone());
        if row.same {
            let (ra, rb) = (root(&mut parent, &row.a), root(&mut parent, &row.b));
            if ra != rb {
                parent.insert(ra, rb);
            }
        }
    }
    let mut ids: HashMap<PathBuf, usize> = HashMap::new();
    let mut numbers: HashMap<PathBuf, usize> = HashMap::new();
    let keys: Vec<PathBuf> = parent.keys().cloned().collect();
    for p in keys {
        let r = root(&mut parent, &p);
        let next = numbers.len();
        let id = *numbers.entry(r).or_insert(next);
        ids.insert(p, id);
    }
    ids
}

fn write_scores(out: &Path, scored: &[(PathBuf, PathBuf, Scored)]) -> Result<()> {
    let mut w = csv::Writer::from_path(out)?;
    w.write_record(["a", "b", "same", "percent", "cosine"])?;
    for (a, b, s) in scored {
        let percent = s.percent.map(|p| format!("{p:.6}")).unwrap_or_default();
        let cosine = s.percent.map(|p| format!("{:.6}", cosine_for(p))).unwrap_or_default();
        let same = if s.genuine { "1" } else { "0" };
        w.write_record([
            &a.display().to_string(),
            &b.display().to_string(),
            same,
            &percent,
            &cosine,
        ])?;
    }
    w.flush()?;
    Ok(())
}
