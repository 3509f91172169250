//! A sentence-transformers model directory run with candle: BERT-family weights
//! (`model.safetensors`), the model's own tokenizer (`tokenizer.json`), its pooling
//! (`1_Pooling/config.json`: mean, CLS or max) and, when `modules.json` lists it, L2
//! normalisation.

use candle_core::{DType, Device, IndexOp, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a usable sentence-transformers file: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("inference failed: {0}")]
    Inference(String),
}

/// How token vectors become one sentence vector (`1_Pooling/config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    Mean,
    Cls,
    Max,
}

#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
}

#[derive(Deserialize)]
struct ModuleEntry {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

/// One text's embedding and whether its text was cut to the model's token limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedded {
    pub vector: Vec<f32>,
    pub truncated: bool,
}

/// A loaded model, ready to embed on the CPU.
pub struct SentenceModel {
    model: BertModel,
    tokenizer: Tokenizer,
    pooling: Pooling,
    normalize: bool,
    dimension: usize,
    max_tokens: usize,
    device: Device,
}

fn read(path: &Path) -> Result<String, ModelError> {
    std::fs::read_to_string(path)
        .map_err(|source| ModelError::Read { path: path.to_owned(), source })
}

fn format(path: &Path, reason: impl ToString) -> ModelError {
    ModelError::Format { path: path.to_owned(), reason: reason.to_string() }
}

fn inference(e: impl ToString) -> ModelError {
    ModelError::Inference(e.to_string())
}

impl SentenceModel {
    /// Loads `dir`; `max_seq_length` caps the model's own limit (tokens per text).
    pub fn load(dir: &Path, max_seq_length: Option<usize>) -> Result<Self, ModelError> {
        let config_path = dir.join("config.json");
        let config: Config =
            serde_json::from_str(&read(&config_path)?).map_err(|e| format(&config_path, e))?;
        let dimension = config.hidden_size;

        let pooling_path = dir.join("1_Pooling/config.json");
        let pooling = if pooling_path.is_file() {
            let p: PoolingConfig = serde_json::from_str(&read(&pooling_path)?)
                .map_err(|e| format(&pooling_path, e))?;
            match (p.pooling_mode_mean_tokens, p.pooling_mode_cls_token, p.pooling_mode_max_tokens)
            {
                (true, false, false) => Pooling::Mean,
                (false, true, false) => Pooling::Cls,
                (false, false, true) => Pooling::Max,
                _ => return Err(format(&pooling_path, "exactly one of mean, CLS or max pooling")),
            }
        } else {
            Pooling::Mean
        };
        let modules_path = dir.join("modules.json");
        let normalize = if modules_path.is_file() {
            let modules: Vec<ModuleEntry> = serde_json::from_str(&read(&modules_path)?)
                .map_err(|e| format(&modules_path, e))?;
            modules.iter().any(|m| m.kind.ends_with("models.Normalize"))
        } else {
            false
        };
        let sbert_path = dir.join("sentence_bert_config.json");
        let model_limit = if sbert_path.is_file() {
            let c: SentenceBertConfig =
                serde_json::from_str(&read(&sbert_path)?).map_err(|e| format(&sbert_path, e))?;
            c.max_seq_length
        } else {
            None
        };
        let max_tokens = [Some(config.max_position_embeddings), model_limit, max_seq_length]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(512)
            .max(2);

        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer =
            Tokenizer::from_file(&tokenizer_path).map_err(|e| format(&tokenizer_path, e))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(|e| format(&tokenizer_path, e))?;
        let pad_id = tokenizer.token_to_id("[PAD]").unwrap_or(config.pad_token_id as u32);
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            pad_id,
            ..Default::default()
        }));

        let device = Device::Cpu;
        let weights_path = dir.join("model.safetensors");
        if !weights_path.is_file() {
            return Err(format(&weights_path, "missing (only safetensors weights are read)"));
        }
        let tensors = candle_core::safetensors::load(&weights_path, &device)
            .map_err(|e| format(&weights_path, e))?;
        let weights = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model = BertModel::load(weights, &config).map_err(|e| format(&weights_path, e))?;
        Ok(Self { model, tokenizer, pooling, normalize, dimension, max_tokens, device })
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// The model's tokenizer, configured to cut at the model's limit.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The most tokens of one text the model reads; the rest is cut.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Embeds `texts` as one batch (padded to the longest).
    pub fn embed(&self, texts: &[String]) -> Result<Vec<Embedded>, ModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(inference)?;
        let length = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0);
        let rows = encodings.len();
        let mut ids = Vec::with_capacity(rows * length);
        let mut mask = Vec::with_capacity(rows * length);
        for encoding in &encodings {
            ids.extend_from_slice(encoding.get_ids());
            mask.extend_from_slice(encoding.get_attention_mask());
        }
        let ids = Tensor::from_vec(ids, (rows, length), &self.device).map_err(inference)?;
        let mask = Tensor::from_vec(mask, (rows, length), &self.device).map_err(inference)?;
        let types = ids.zeros_like().map_err(inference)?;
        let tokens = self.model.forward(&ids, &types, Some(&mask)).map_err(inference)?;
        let pooled = self.pool(&tokens, &mask).map_err(inference)?;
        let pooled = if self.normalize {
            let norms = pooled.sqr().and_then(|s| s.sum_keepdim(1)).and_then(|s| s.sqrt());
            norms
                .and_then(|n| pooled.broadcast_div(&n.clamp(1e-12, f32::MAX)?))
                .map_err(inference)?
        } else {
            pooled
        };
        let vectors = pooled.to_vec2::<f32>().map_err(inference)?;
        Ok(vectors
            .into_iter()
            .zip(&encodings)
            .map(|(vector, encoding)| Embedded {
                vector,
                truncated: !encoding.get_overflowing().is_empty(),
            })
            .collect())
    }

    fn pool(&self, tokens: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        match self.pooling {
            Pooling::Mean => {
                let summed = tokens.broadcast_mul(&mask)?.sum(1)?;
                let counts = mask.sum(1)?.clamp(1e-9, f32::MAX)?;
                summed.broadcast_div(&counts)
            }
            Pooling::Cls => tokens.i((.., 0)),
            Pooling::Max => {
                // Padding positions must never win the maximum.
                let penalty = ((mask.ones_like()? - &mask)? * -1e9)?;
                tokens.broadcast_add(&penalty)?.max(1)
            }
        }
    }
}
