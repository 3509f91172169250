//! Who is calling: a signed-in user or a project API key, and what API keys may do.

use crate::error::ServiceError;
use crate::ids::{ApiKeyId, ProjectId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = ServiceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Role::User),
            "admin" => Ok(Role::Admin),
            _ => Err(ServiceError::invalid("role", "must be user or admin")),
        }
    }
}

/// The data areas of a project; API key scopes are granted per area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    Database,
    Tables,
    Vectors,
    Memory,
    Events,
    Files,
    Rlhf,
    Agent,
}

impl Area {
    pub const ALL: [Area; 8] = [
        Area::Database,
        Area::Tables,
        Area::Vectors,
        Area::Memory,
        Area::Events,
        Area::Files,
        Area::Rlhf,
        Area::Agent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::Database => "database",
            Area::Tables => "tables",
            Area::Vectors => "vectors",
            Area::Memory => "memory",
            Area::Events => "events",
            Area::Files => "files",
            Area::Rlhf => "rlhf",
            Area::Agent => "agent",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Read,
    Write,
}

/// One API key scope: `<area>:read`, `<area>:write`, or `*` for everything.
/// A `write` scope does not imply `read`: grant both when a key needs both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    All,
    Area(Area, Operation),
}

impl Scope {
    pub fn allows(self, area: Area, op: Operation) -> bool {
        match self {
            Scope::All => true,
            Scope::Area(a, o) => a == area && o == op,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("*"),
            Scope::Area(area, Operation::Read) => write!(f, "{}:read", area.as_str()),
            Scope::Area(area, Operation::Write) => write!(f, "{}:write", area.as_str()),
        }
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "*" {
            return Ok(Scope::All);
        }
        let unknown = || format!("unknown scope {s:?}: expected '*' or '<area>:read|write'");
        let (area, op) = s.split_once(':').ok_or_else(unknown)?;
        let area = Area::ALL.into_iter().find(|a| a.as_str() == area).ok_or_else(unknown)?;
        let op = match op {
            "read" => Operation::Read,
            "write" => Operation::Write,
            _ => return Err(unknown()),
        };
        Ok(Scope::Area(area, op))
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User { id: UserId, role: Role },
    ApiKey { key_id: ApiKeyId, project_id: ProjectId, scopes: Vec<Scope> },
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::User { role: Role::Admin, .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        for s in ["*", "vectors:read", "tables:write", "agent:read"] {
            let scope: Scope = s.parse().unwrap_or(Scope::All);
            assert_eq!(scope.to_string(), s);
        }
        assert!("vectors".parse::<Scope>().is_err());
        assert!("vectors:admin".parse::<Scope>().is_err());
        assert!("nope:read".parse::<Scope>().is_err());
    }

    #[test]
    fn write_does_not_imply_read() {
        let scope = Scope::Area(Area::Tables, Operation::Write);
        assert!(scope.allows(Area::Tables, Operation::Write));
        assert!(!scope.allows(Area::Tables, Operation::Read));
        assert!(!scope.allows(Area::Vectors, Operation::Write));
        assert!(Scope::All.allows(Area::Files, Operation::Read));
    }
}
