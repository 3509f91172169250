//! `PgUserRepository`: the `users` table.

use crate::error::{map_diesel, map_pool, violated_unique};
use crate::pool::PgPool;
use crate::schema::users;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;
use zerodb_domain::Cause;
use zerodb_domain::principal::Role;
use zerodb_domain::users::{
    Email, NewUser, User, UserCredentials, UserRepository, UserRepositoryError,
};
use zerodb_domain::{RepositoryError, UserId};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: Uuid,
    email: String,
    password_hash: String,
    role: String,
    created_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    id: Uuid,
    email: &'a str,
    password_hash: &'a str,
    role: &'a str,
}

impl UserRow {
    fn into_credentials(self) -> Result<UserCredentials, RepositoryError> {
        let role = self.role.parse::<Role>().map_err(|_| {
            RepositoryError::Internal(Cause::msg(format!("unknown role {:?}", self.role)))
        })?;
        Ok(UserCredentials {
            user: User {
                id: UserId::from_uuid(self.id),
                email: self.email,
                role,
                created_at: self.created_at,
            },
            password_hash: self.password_hash,
        })
    }
}

pub struct PgUserRepository {
    pool: PgPool,
}

impl PgUserRepository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl UserRepository for PgUserRepository {
    async fn create(&self, user: NewUser) -> Result<User, UserRepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: UserRow = diesel::insert_into(users::table)
            .values(NewUserRow {
                id: user.id.as_uuid(),
                email: user.email.as_str(),
                password_hash: &user.password_hash,
                role: user.role.as_str(),
            })
            .returning(UserRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(|e| match violated_unique(&e) {
                Some(_) => UserRepositoryError::EmailTaken,
                None => map_diesel(e).into(),
            })?;
        Ok(row.into_credentials()?.user)
    }

    async fn get(&self, id: UserId) -> Result<User, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: UserRow = users::table
            .find(id.as_uuid())
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .map_err(map_diesel)?;
        row.into_credentials().map(|c| c.user)
    }

    async fn find_credentials(&self, email: &Email) -> Result<UserCredentials, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: UserRow = users::table
            .filter(users::email.eq(email.as_str()))
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .map_err(map_diesel)?;
        row.into_credentials()
    }
}
