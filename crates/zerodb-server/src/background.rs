//! The loops a server runs beside its HTTP workers (event writers and listeners, the vector
//! index's reconciler, purges, sweeps, the relay, usage flushes), kept together so that a
//! stop ends every one of them before the database goes away.

use std::future::Future;
use tokio::task::JoinHandle;

#[derive(Default)]
pub struct BackgroundTasks {
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl BackgroundTasks {
    pub fn add(&mut self, name: &'static str, task: JoinHandle<()>) {
        self.tasks.push((name, task));
    }

    pub fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        self.add(name, tokio::spawn(task));
    }

    /// Cancels every task and waits until each has ended (and released its connections).
    pub async fn stop(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        for (_, task) in &tasks {
            task.abort();
        }
        for (name, task) in tasks {
            if let Err(e) = task.await
                && e.is_panic()
            {
                tracing::error!(task = name, "background task had panicked");
            }
        }
    }
}

/// A server dropped without a stop (a test's runtime ending) still ends its loops.
impl Drop for BackgroundTasks {
    fn drop(&mut self) {
        for (_, task) in &self.tasks {
            task.abort();
        }
    }
}
