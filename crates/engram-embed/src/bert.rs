//! The BERT encoder of all-MiniLM-L6-v2 and sentence-transformers' pooling.
//!
//! Sequences are never padded: the dense layers run on every token of the batch stacked
//! into one matrix, and attention runs per sequence at its own length. That gives the same
//! result as padding with an attention mask, without computing the padding, and makes a
//! text's vector independent of the batch it came in: every output row depends on its own
//! sequence only, in an order fixed by the kernel rule (crate `kernels`), so a text embedded
//! alone or among 127 others has the same bytes.

use rayon::prelude::*;
use safetensors::{Dtype, SafeTensors};

use crate::dense::PackedLinear;
use crate::error::EmbedError;
use crate::kernels::Kernels;
use crate::ops;

/// Width of the hidden state and of the output embedding.
pub const HIDDEN: usize = 384;
const HEADS: usize = 12;
pub(crate) const HEAD_DIM: usize = HIDDEN / HEADS;
const INTERMEDIATE: usize = 1536;
const LAYERS: usize = 6;
const MAX_POSITIONS: usize = 512;
const LN_EPS: f32 = 1e-12;

struct LayerNorm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl LayerNorm {
    fn apply(&self, kernels: Kernels, x: &mut [f32]) {
        ops::layer_norm(kernels, x, &self.gamma, &self.beta, LN_EPS);
    }
}

struct Layer {
    /// Query, key and value fused into one `1152 × 384` projection.
    qkv: PackedLinear,
    attn_out: PackedLinear,
    attn_norm: LayerNorm,
    intermediate: PackedLinear,
    output: PackedLinear,
    out_norm: LayerNorm,
}

/// The encoder's weights.
pub(crate) struct Bert {
    kernels: Kernels,
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

/// A linear layer's `weight` (outputs × inputs) and `bias`.
fn linear_parts(
    st: &SafeTensors<'_>,
    prefix: &str,
    outputs: usize,
    inputs: usize,
) -> Result<(Vec<f32>, Vec<f32>), EmbedError> {
    Ok((
        tensor(st, &format!("{prefix}.weight"), &[outputs, inputs])?,
        tensor(st, &format!("{prefix}.bias"), &[outputs])?,
    ))
}

fn linear(
    kernels: Kernels,
    st: &SafeTensors<'_>,
    prefix: &str,
    outputs: usize,
    inputs: usize,
) -> Result<PackedLinear, EmbedError> {
    let (weight, bias) = linear_parts(st, prefix, outputs, inputs)?;
    Ok(PackedLinear::pack(kernels, weight, bias, inputs, outputs))
}

fn layer_norm(st: &SafeTensors<'_>, prefix: &str) -> Result<LayerNorm, EmbedError> {
    Ok(LayerNorm {
        gamma: tensor(st, &format!("{prefix}.weight"), &[HIDDEN])?,
        beta: tensor(st, &format!("{prefix}.bias"), &[HIDDEN])?,
    })
}

/// Query, key and value as one `3·384 × 384` layer: one pass over the hidden state.
fn fused_qkv(
    kernels: Kernels,
    st: &SafeTensors<'_>,
    prefix: &str,
) -> Result<PackedLinear, EmbedError> {
    let mut weight = Vec::with_capacity(3 * HIDDEN * HIDDEN);
    let mut bias = Vec::with_capacity(3 * HIDDEN);
    for part in ["query", "key", "value"] {
        let (w, b) = linear_parts(
            st,
            &format!("{prefix}.attention.self.{part}"),
            HIDDEN,
            HIDDEN,
        )?;
        weight.extend(w);
        bias.extend(b);
    }
    Ok(PackedLinear::pack(
        kernels,
        weight,
        bias,
        HIDDEN,
        3 * HIDDEN,
    ))
}

impl Bert {
    /// Loads the weights, packed for `kernels` (a path this CPU supports: packing asserts
    /// it).
    pub(crate) fn from_safetensors(bytes: &[u8], kernels: Kernels) -> Result<Self, EmbedError> {
        let st = SafeTensors::deserialize(bytes).map_err(|e| EmbedError::ModelMalformed {
            reason: e.to_string(),
        })?;
        let token_type = tensor(&st, "embeddings.token_type_embeddings.weight", &[2, HIDDEN])?;
        let mut layers = Vec::with_capacity(LAYERS);
        for i in 0..LAYERS {
            let p = format!("encoder.layer.{i}");
            layers.push(Layer {
                qkv: fused_qkv(kernels, &st, &p)?,
                attn_out: linear(
                    kernels,
                    &st,
                    &format!("{p}.attention.output.dense"),
                    HIDDEN,
                    HIDDEN,
                )?,
                attn_norm: layer_norm(&st, &format!("{p}.attention.output.LayerNorm"))?,
                intermediate: linear(
                    kernels,
                    &st,
                    &format!("{p}.intermediate.dense"),
                    INTERMEDIATE,
                    HIDDEN,
                )?,
                output: linear(
                    kernels,
                    &st,
                    &format!("{p}.output.dense"),
                    HIDDEN,
                    INTERMEDIATE,
                )?,
                out_norm: layer_norm(&st, &format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(Self {
            kernels,
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

    /// The kernel path the weights are packed for.
    pub(crate) fn kernels(&self) -> Kernels {
        self.kernels
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
        let k = self.kernels;
        self.embed_norm.apply(k, &mut hidden);

        let mut qkv = Vec::new();
        let mut ctx = vec![0f32; total * HIDDEN];
        debug_assert_eq!(self.layers[0].qkv.outputs(), 3 * HIDDEN);
        let mut attn = Vec::new();
        let mut inter = Vec::new();
        let mut out = Vec::new();
        for layer in &self.layers {
            layer.qkv.forward(&hidden, total, &mut qkv);
            attention(k, &qkv, &offsets, &lens, &mut ctx);
            layer.attn_out.forward(&ctx, total, &mut attn);
            ops::add_assign(k, &mut attn, &hidden);
            layer.attn_norm.apply(k, &mut attn);
            layer.intermediate.forward(&attn, total, &mut inter);
            ops::gelu(k, &mut inter);
            layer.output.forward(&inter, total, &mut out);
            ops::add_assign(k, &mut out, &attn);
            layer.out_norm.apply(k, &mut out);
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
fn attention(kernels: Kernels, qkv: &[f32], offsets: &[usize], lens: &[usize], ctx: &mut [f32]) {
    let scale = 1.0 / (HEAD_DIM as f32).sqrt();
    let stride = 3 * HIDDEN;
    let jobs: Vec<(usize, usize)> = (0..offsets.len())
        .flat_map(|s| (0..HEADS).map(move |h| (s, h)))
        .collect();
    let heads: Vec<Vec<f32>> = jobs
        .par_iter()
        .map_init(Vec::new, |scratch, &(s, h)| {
            let (start, len) = (offsets[s], lens[s]);
            let rows = &qkv[start * stride..(start + len) * stride];
            let mut head = vec![0f32; len * HEAD_DIM];
            ops::attend(kernels, rows, len, h, scale, &mut head, scratch);
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

/// Mean over the sequence's rows (token order), then division by the L2 norm (squares
/// summed in dimension order).
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
