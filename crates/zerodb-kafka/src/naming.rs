//! Kafka topic names and partitions for ZeroDB events.

use sha2::{Digest, Sha256};
use zerodb_domain::ProjectId;

/// Kafka's longest topic name.
const MAX_TOPIC: usize = 249;

/// `<prefix>.<project_id>.<topic>`. ZeroDB topics use Kafka's alphabet; one too long to fit
/// after the prefix is cut and ends in `-` and 16 hex digits of its SHA-256, so distinct
/// topics stay distinct.
pub fn kafka_topic(prefix: &str, project_id: ProjectId, topic: &str) -> String {
    let name = format!("{prefix}.{project_id}.{topic}");
    if name.len() <= MAX_TOPIC {
        return name;
    }
    let digest = Sha256::digest(topic.as_bytes());
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let keep = MAX_TOPIC - hash.len() - 1;
    // Topic names are ASCII, so any byte index is a character boundary.
    format!("{}-{hash}", &name[..keep])
}

/// The partition of an event: 0 without a key, else the key's hash modulo `partitions`, so
/// events of one key keep their order.
pub fn partition_for(key: Option<&str>, partitions: i32) -> i32 {
    let Some(key) = key else { return 0 };
    let digest = Sha256::digest(key.as_bytes());
    let hash = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    (hash % partitions.max(1).unsigned_abs()) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_kafka_and_stay_distinct() {
        let project = ProjectId::new();
        assert_eq!(kafka_topic("zerodb", project, "orders"), format!("zerodb.{project}.orders"));
        let long_a = "a".repeat(249);
        let long_b = format!("{}b", "a".repeat(248));
        let (a, b) =
            (kafka_topic("zerodb", project, &long_a), kafka_topic("zerodb", project, &long_b));
        assert_eq!(a.len(), 249);
        assert_eq!(b.len(), 249);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c)));
    }

    #[test]
    fn keys_pick_stable_partitions() {
        assert_eq!(partition_for(None, 8), 0);
        let p = partition_for(Some("customer-7"), 8);
        assert!((0..8).contains(&p));
        assert_eq!(partition_for(Some("customer-7"), 8), p);
        assert_eq!(partition_for(Some("anything"), 1), 0);
        let spread: std::collections::HashSet<i32> =
            (0..100).map(|i| partition_for(Some(&format!("k{i}")), 8)).collect();
        assert!(spread.len() > 4, "{spread:?}");
    }
}
