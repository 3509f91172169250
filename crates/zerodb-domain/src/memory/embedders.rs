//! The embedding models a server offers, and which one a project uses.

use super::EmbeddingProvider;
use crate::database::DatabaseConfig;
use crate::error::ServiceError;
use std::sync::Arc;

/// A model a project may choose, as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedModel {
    pub model: String,
    pub dimension: usize,
}

impl OfferedModel {
    pub fn of(provider: &Arc<dyn EmbeddingProvider>) -> Self {
        Self { model: provider.model(), dimension: provider.dimension() }
    }
}

/// The server's embedding models: one default, and others a project may pick by name
/// (`embedding_model` in its database config). Names are the providers' `model()`.
#[derive(Clone)]
pub struct Embedders {
    default: Arc<dyn EmbeddingProvider>,
    others: Vec<Arc<dyn EmbeddingProvider>>,
}

impl Embedders {
    /// `others` may repeat the default or each other; the first of a name is kept.
    pub fn new(
        default: Arc<dyn EmbeddingProvider>,
        others: Vec<Arc<dyn EmbeddingProvider>>,
    ) -> Self {
        let mut kept: Vec<Arc<dyn EmbeddingProvider>> = Vec::new();
        for provider in others {
            let name = provider.model();
            if name != default.model() && kept.iter().all(|k| k.model() != name) {
                kept.push(provider);
            }
        }
        Self { default, others: kept }
    }

    /// The default first, then the others in configuration order.
    pub fn offered(&self) -> Vec<OfferedModel> {
        std::iter::once(&self.default).chain(&self.others).map(OfferedModel::of).collect()
    }

    pub fn get(&self, model: &str) -> Option<&Arc<dyn EmbeddingProvider>> {
        std::iter::once(&self.default).chain(&self.others).find(|p| p.model() == model)
    }

    /// The provider a project embeds with: its chosen model, or the server's default.
    pub fn for_project(
        &self,
        config: &DatabaseConfig,
    ) -> Result<&Arc<dyn EmbeddingProvider>, ServiceError> {
        match config.embedding_model.as_deref() {
            None => Ok(&self.default),
            Some(name) => self.get(name).ok_or_else(|| self.unknown(name)),
        }
    }

    /// The error for a model this server does not offer, naming those it does.
    pub fn unknown(&self, name: &str) -> ServiceError {
        let offered: Vec<String> = self.offered().into_iter().map(|m| m.model).collect();
        ServiceError::invalid(
            "embedding_model",
            format!("this server offers no model '{name}'; it offers {}", offered.join(", ")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MockEmbeddingProvider;

    fn provider(name: &'static str, dimension: usize) -> Arc<dyn EmbeddingProvider> {
        let mut p = MockEmbeddingProvider::new();
        p.expect_model().returning(move || name.to_owned());
        p.expect_dimension().return_const(dimension);
        Arc::new(p)
    }

    #[test]
    fn a_project_gets_its_chosen_model_or_the_default() {
        let embedders = Embedders::new(
            provider("minilm", 384),
            vec![provider("hash", 256), provider("minilm", 384), provider("hash", 99)],
        );
        let offered: Vec<_> = embedders.offered().into_iter().map(|m| m.model).collect();
        assert_eq!(offered, ["minilm", "hash"]);
        let default = DatabaseConfig::default();
        assert_eq!(embedders.for_project(&default).map(|p| p.model()), Ok("minilm".into()));
        let chosen =
            DatabaseConfig { embedding_model: Some("hash".into()), ..DatabaseConfig::default() };
        assert_eq!(embedders.for_project(&chosen).map(|p| p.dimension()), Ok(256));
        let gone =
            DatabaseConfig { embedding_model: Some("ada".into()), ..DatabaseConfig::default() };
        let err = embedders.for_project(&gone).err();
        assert!(
            matches!(&err, Some(ServiceError::InvalidInput(v)) if v[0].reason.contains("minilm, hash")),
            "{err:?}"
        );
    }
}
