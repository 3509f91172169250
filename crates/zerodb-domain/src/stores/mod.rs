//! Store ports for the data areas beyond tables.
//!
//! Each area gets its own module here, holding its port trait (`VectorStore`, `MemoryStore`,
//! `EventBus`, `ObjectStore`, `EmbeddingProvider`), its entities and its error enum, following
//! the pattern of [`crate::tables`]: `#[async_trait]`, `Send + Sync + 'static`, every method
//! takes the `ProjectId`, and the trait docs state the error contract. Services reach them
//! through [`crate::access::AccessPolicy`] like every other project resource.
