//! The BERT encoder of all-MiniLM-L6-v2 and sentence-transformers' pooling.
//!
//! Sequences are never padded: the dense layers run on every token of the batch stacked
//! into one matrix, and attention runs per sequence at its own length. That gives the same
//! result as padding with an attention mask, without computing the padding.

use rayon::prelude::*;
use safetensors::{Dtype, SafeTensors};

use crate::error::EmbedError;
use crate::matmul::{View, matmul};

/// Width of the hidden state and of the output embedding.
pub const HIDDEN: usize = 384;
const HEADS: usize = 12;
const HEAD_DIM: usize = HIDDEN / HEADS;
const INTERMEDIATE: usize = 1536;
const LAYERS: usize = 6;
const MAX_POSITIONS: usize = 512;
const LN_EPS: f32 = 1e-12;

struct Linear {
    /// `out × in`, row-major, as PyTorch stores it.
    weight: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl Linear {
    /// `out[rows × outputs] = x[rows × inputs] · Wᵀ + b`.
    fn forward(&self, x: &[f32], rows: usize, out: &mut Vec<f32>) {
        out.clear();
        out.reserve(rows * self.outputs);
        for _ in 0..rows {
            out.extend_from_slice(&self.bias);
        }
        matmul(
            View::row_major(x, rows, self.inputs),
            View::transposed(&self.weight, self.outputs, self.inputs),
            out,
            self.outputs,
            1.0,
            true,
        );
    }
}

struct LayerNorm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl LayerNorm {
    fn apply(&self, x: &mut [f32]) {
        for row in x.chunks_exact_mut(HIDDEN) {
            let mean = row.iter().sum::<f32>() / HIDDEN as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / HIDDEN as f32;
            let inv = 1.0 / (var + LN_EPS).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *v = (*v - mean) * inv * g + b;
            }
        }
    }
}

struct Layer {
    /// Query, key and value fused into one `1152 × 384` projection.
    qkv: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
}

/// The encoder's weights.
pub(crate) struct Bert {
    word: Vec<f32>,
    position: Vec<f32>,
    token_type0: Vec<f32>,
    embed_norm: LayerNorm,
    layers: Vec<Layer>,
}

fn tensor(st: &SafeTensors<'_>, name: &str, shape: &[usize]) -> Result<Vec<f32>, EmbedError> {
    let t = st.tensor(name).map_err(|e| EmbedError::ModelMalformed {
        reason: format!("{name}: {e}"),
    })?;
    if t.dtype() != Dtype::F32 || t.shape() != shape {
        return Err(EmbedError::ModelMalformed {
            reason: format!(
                "{name} is {:?} {:?}, expected F32 {shape:?}",
                t.dtype(),
                t.shape()
            ),
        });
    }
    Ok(t.data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn linear(
    st: &SafeTensors<'_>,
    prefix: &str,
    outputs: usize,
    inputs: usize,
) -> Result<Linear, EmbedError> {
    Ok(Linear {
        weight: tensor(st, &format!("{prefix}.weight"), &[outputs, inputs])?,
        bias: tensor(st, &format!("{prefix}.bias"), &[outputs])?,
        inputs,
        outputs,
    })
}

fn layer_norm(st: &SafeTensors<'_>, prefix: &str) -> Result<LayerNorm, EmbedError> {
    Ok(LayerNorm {
        gamma: tensor(st, &format!("{prefix}.weight"), &[HIDDEN])?,
        beta: tensor(st, &format!("{prefix}.bias"), &[HIDDEN])?,
    })
}

fn fuse(parts: [Linear; 3]) -> Linear {
    let [q, k, v] = parts;
    Linear {
        weight: [q.weight, k.weight, v.weight].concat(),
        bias: [q.bias, k.bias, v.bias].concat(),
        inputs: HIDDEN,
        outputs: 3 * HIDDEN,
    }
}

/// The exact (erf) GELU that BERT uses.
fn gelu(x: &mut [f32]) {
    for v in x {
        *v = 0.5 * *v * (1.0 + libm::erff(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

impl Bert {
    pub(crate) fn from_safetensors(bytes: &[u8]) -> Result<Self, EmbedError> {
        let st = SafeTensors::deserialize(bytes).map_err(|e| EmbedError::ModelMalformed {
            reason: e.to_string(),
        })?;
        let token_type = tensor(&st, "embeddings.token_type_embeddings.weight", &[2, HIDDEN])?;
        let mut layers = Vec::with_capacity(LAYERS);
        for i in 0..LAYERS {
            let p = format!("encoder.layer.{i}");
            layers.push(Layer {
                qkv: fuse([
                    linear(&st, &format!("{p}.attention.self.query"), HIDDEN, HIDDEN)?,
                    linear(&st, &format!("{p}.attention.self.key"), HIDDEN, HIDDEN)?,
                    linear(&st, &format!("{p}.attention.self.value"), HIDDEN, HIDDEN)?,
                ]),
                attn_out: linear(&st, &format!("{p}.attention.output.dense"), HIDDEN, HIDDEN)?,
                attn_norm: layer_norm(&st, &format!("{p}.attention.output.LayerNorm"))?,
                intermediate: linear(
                    &st,
                    &format!("{p}.intermediate.dense"),
                    INTERMEDIATE,
                    HIDDEN,
                )?,
                output: linear(&st, &format!("{p}.output.dense"), HIDDEN, INTERMEDIATE)?,
                out_norm: layer_norm(&st, &format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(Self {
            word: tensor(&st, "embeddings.word_embeddings.weight", &[30522, HIDDEN])?,
            position: tensor(
                &st,
                "embeddings.position_embeddings.weight",
                &[MAX_POSITIONS, HIDDEN],
            )?,
            token_type0: token_type[..HIDDEN].to_vec(),
            embed_norm: layer_norm(&st, "embeddings.LayerNorm")?,
            layers,
        })
    }

    fn vocab(&self) -> usize {
        self.word.len() / HIDDEN
    }

    /// Embeds token sequences: encoder, mean pooling, L2 normalization.
    pub(crate) fn embed(&self, sequences: &[Vec<u32>]) -> Vec<Vec<f32>> {
        let lens: Vec<usize> = sequences.iter().map(Vec::len).collect();
        let total: usize = lens.iter().sum();
        let mut offsets = Vec::with_capacity(lens.len());
        let mut acc = 0;
        for len in &lens {
            offsets.push(acc);
            acc += len;
        }

        let mut hidden = Vec::with_capacity(total * HIDDEN);
        for seq in sequences {
            for (pos, &id) in seq.iter().enumerate() {
                let id = (id as usize).min(self.vocab() - 1);
                let w = &self.word[id * HIDDEN..(id + 1) * HIDDEN];
                let p = &self.position[pos * HIDDEN..(pos + 1) * HIDDEN];
                hidden.extend(
                    w.iter()
                        .zip(p)
                        .zip(&self.token_type0)
                        .map(|((a, b), c)| a + b + c),
                );
            }
        }
        self.embed_norm.apply(&mut hidden);

        let mut qkv = Vec::new();
        let mut ctx = vec![0f32; total * HIDDEN];
        let mut attn = Vec::new();
        let mut inter = Vec::new();
        let mut out = Vec::new();
        for layer in &self.layers {
            layer.qkv.forward(&hidden, total, &mut qkv);
            attention(&qkv, &offsets, &lens, &mut ctx);
            layer.attn_out.forward(&ctx, total, &mut attn);
            for (a, h) in attn.iter_mut().zip(&hidden) {
                *a += h;
            }
            layer.attn_norm.apply(&mut attn);
            layer.intermediate.forward(&attn, total, &mut inter);
            gelu(&mut inter);
            layer.output.forward(&inter, total, &mut out);
            for (o, a) in out.iter_mut().zip(&attn) {
                *o += a;
            }
            layer.out_norm.apply(&mut out);
            std::mem::swap(&mut hidden, &mut out);
        }

        offsets
            .iter()
            .zip(&lens)
            .map(|(&start, &len)| {
                mean_pool_normalize(&hidden[start * HIDDEN..(start + len) * HIDDEN], len)
            })
            .collect()
    }
}

/// Scaled dot-product attention of every sequence and head; writes `ctx[total × 384]`.
fn attention(qkv: &[f32], offsets: &[usize], lens: &[usize], ctx: &mut [f32]) {
    let scale = 1.0 / (HEAD_DIM as f32).sqrt();
    let stride = 3 * HIDDEN;
    let jobs: Vec<(usize, usize)> = (0..offsets.len())
        .flat_map(|s| (0..HEADS).map(move |h| (s, h)))
        .collect();
    let heads: Vec<Vec<f32>> = jobs
        .par_iter()
        .map(|&(s, h)| {
            let (start, len) = (offsets[s], lens[s]);
            let rows = &qkv[start * stride..(start + len) * stride];
            let view = |part: usize| View {
                data: &rows[part * HIDDEN + h * HEAD_DIM..],
                rows: len,
                cols: HEAD_DIM,
                row_stride: stride,
                col_stride: 1,
            };
            let (q, k, v) = (view(0), view(1), view(2));
            let mut scores = vec![0f32; len * len];
            let kt = View {
                rows: HEAD_DIM,
                cols: len,
                row_stride: 1,
                col_stride: stride,
                ..k
            };
            matmul(q, kt, &mut scores, len, scale, false);
            for row in scores.chunks_exact_mut(len) {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0.0;
                for x in row.iter_mut() {
                    *x = (*x - max).exp();
                    sum += *x;
                }
                for x in row.iter_mut() {
                    *x /= sum;
                }
            }
            let mut head = vec![0f32; len * HEAD_DIM];
            matmul(
                View::row_major(&scores, len, len),
                v,
                &mut head,
                HEAD_DIM,
                1.0,
                false,
            );
            head
        })
        .collect();
    for (&(s, h), head) in jobs.iter().zip(&heads) {
        let start = offsets[s];
        for (i, row) in head.chunks_exact(HEAD_DIM).enumerate() {
            let at = (start + i) * HIDDEN + h * HEAD_DIM;
            ctx[at..at + HEAD_DIM].copy_from_slice(row);
        }
    }
}

fn mean_pool_normalize(rows: &[f32], len: usize) -> Vec<f32> {
    let mut pooled = vec![0f32; HIDDEN];
    for row in rows.chunks_exact(HIDDEN) {
        for (p, v) in pooled.iter_mut().zip(row) {
            *p += v;
        }
    }
    for p in &mut pooled {
        *p /= len.max(1) as f32;
    }
    let norm = pooled.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
    for p in &mut pooled {
        *p /= norm;
    }
    pooled
}
