//! An executor process (`bibflow executor`): Ballista's executor with bibflow's session builder.
//! It polls the scheduler for tasks, runs them with every bibflow function in its registry and
//! within one memory pool of `--memory-limit` bytes shared by all its tasks (made by
//! [`SessionBuilder::state`], as a local session's), writes shuffle files and spill files under
//! its work folder, and serves shuffle files to the other executors and results to clients over
//! Arrow Flight on its address.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista::prelude::SessionConfigExt;
use ballista_core::RuntimeProducer;
use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::protobuf::ExecutorStoppedParams;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use bibflow_engine::session::{SessionBuilder, SessionOptions};
use bibflow_engine::{EngineError, Result};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;

use crate::client::{SchedulerUrl, error_chain};
use crate::codec;
use crate::scheduler::ballista_error;

/// How an executor is started.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler it registers with.
    pub scheduler: SchedulerUrl,
    /// Where it serves Arrow Flight (shuffle files, results); port 0: a free port, chosen at
    /// start. Other executors and clients connect to this address, so it must be one they reach.
    pub bind: SocketAddr,
    /// Folder for shuffle files and spill files; `None`: a temporary folder, removed on exit.
    pub work_dir: Option<PathBuf>,
    /// Tasks run at once; `None`: the number of cores.
    pub vcores: Option<usize>,
    /// How long to wait for the scheduler at start (it may be starting too).
    pub connect_timeout: Duration,
    /// The session tasks run in: `memory_limit` bounds all of the executor's tasks together.
    pub session: SessionOptions,
}

/// An executor ready to start: its scheduler answered, its address and work folder are chosen.
pub struct Executor {
    config: ExecutorProcessConfig,
    addr: SocketAddr,
    work_dir: PathBuf,
    /// Removed when the executor is dropped, when the work folder is its own.
    _temp: Option<tempfile::TempDir>,
    memory_limit: Option<usize>,
    deregister: Deregister,
}

/// Checks the scheduler answers, chooses the address and the work folder, and builds the
/// executor's registry, memory pool and codecs; [`Executor::run`] then starts it.
pub async fn prepare(options: &ExecutorOptions) -> Result<Executor> {
    wait_for_scheduler(&options.scheduler, options.connect_timeout).await?;
    let addr = match options.bind.port() {
        0 => free_port(options.bind)?,
        _ => options.bind,
    };
    let (work_dir, temp) = match &options.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| EngineError::io(dir, e))?;
            (
                std::path::absolute(dir).map_err(|e| EngineError::io(dir, e))?,
                None,
            )
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("bibflow-executor-")
                .tempdir()
                .map_err(|e| EngineError::io(std::env::temp_dir(), e))?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let work = work_dir
        .to_str()
        .ok_or_else(|| EngineError::Usage(format!("{}: not UTF-8", work_dir.display())))?
        .to_owned();

    let builder = SessionBuilder::new(options.session.clone());
    // One runtime for every task: the session builder's memory pool (greedy, bounded), with
    // spill files in the work folder.
    let state = builder.state()?;
    let runtime = RuntimeEnvBuilder::from_runtime_env(state.runtime_env())
        .with_temp_file_path(&work_dir)
        .build_arc()?;
    let memory_limit = match runtime.memory_pool.memory_limit() {
        datafusion::execution::memory_pool::MemoryLimit::Finite(n) => Some(n),
        _ => None,
    };
    let producer: RuntimeProducer = Arc::new(move |_| Ok(Arc::clone(&runtime)));
    let base_config = state.config().clone().upgrade_for_ballista();
    let registry = BallistaFunctionRegistry::from(&builder.context()?.state());

    let executor_id = ballista_core::ids::new_instance_id();
    let host = addr.ip().to_string();
    let config = ExecutorProcessConfig {
        executor_id: executor_id.clone(),
        bind_host: host.clone(),
        external_host: (!addr.ip().is_unspecified()).then_some(host),
        port: addr.port(),
        scheduler_host: options.scheduler.host().to_owned(),
        scheduler_port: options.scheduler.port(),
        // One attempt: the scheduler answered above.
        scheduler_connect_timeout_seconds: 0,
        vcores: options.vcores.unwrap_or(0),
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        work_dir: Some(work),
        print_thread_info: false,
        // Job folders untouched for six hours are removed, every ten minutes.
        job_data_ttl_seconds: 6 * 3600,
        job_data_clean_up_interval_seconds: 600,
        // Some(0): Ballista installs no pool of its own per task; the producer's pool bounds
        // them all.
        memory_pool_size: Some(0),
        override_function_registry: Some(Arc::new(registry)),
        override_runtime_producer: Some(producer),
        override_config_producer: Some(Arc::new(move || base_config.clone())),
        override_logical_codec: Some(codec::logical()),
        override_physical_codec: Some(codec::physical()),
        ..Default::default()
    };
    Ok(Executor {
        config,
        addr,
        work_dir,
        _temp: temp,
        memory_limit,
        deregister: Deregister {
            scheduler: options.scheduler.clone(),
            executor_id,
            armed: false,
        },
    })
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Ballista's configuration has no Debug.
        f.debug_struct("Executor")
            .field("id", &self.config.executor_id)
            .field("addr", &self.addr)
            .field("work_dir", &self.work_dir)
            .field("memory_limit", &self.memory_limit)
            .finish_non_exhaustive()
    }
}

impl Executor {
    /// The Arrow Flight address it serves on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its work folder.
    pub fn work_dir(&self) -> &std::path::Path {
        &self.work_dir
    }

    /// Its id at the scheduler.
    pub fn id(&self) -> &str {
        &self.config.executor_id
    }

    /// The bound of its memory pool, if any.
    pub fn memory_limit(&self) -> Option<usize> {
        self.memory_limit
    }

    /// Registers with the scheduler and runs tasks until the future is dropped, or Ballista's
    /// own signal handling stops it. When dropped while running, the scheduler is told that
    /// this executor stopped (within two seconds), so that it does not wait for its heartbeat
    /// to time out.
    pub async fn run(mut self) -> Result<()> {
        self.deregister.armed = true;
        let config = std::mem::take(&mut self.config);
        let outcome = start_executor_process(Arc::new(config))
            .await
            .map_err(ballista_error);
        // Ballista told the scheduler itself (or never registered).
        self.deregister.armed = false;
        outcome
    }
}

/// Tells the scheduler an executor stopped, when dropped armed.
#[derive(Debug)]
struct Deregister {
    scheduler: SchedulerUrl,
    executor_id: String,
    armed: bool,
}

impl Drop for Deregister {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let url = self.scheduler.http();
        let params = ExecutorStoppedParams {
            executor_id: self.executor_id.clone(),
            reason: "the executor process was stopped (signal)".into(),
        };
        // Dropped inside the process's runtime, which cannot be blocked on: a thread of its own
        // with a small runtime, waited for.
        let notify = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let call = async {
                    let mut client = SchedulerGrpcClient::connect(url).await.ok()?;
                    client.executor_stopped(params).await.ok()
                };
                let _ = tokio::time::timeout(Duration::from_secs(2), call).await;
            });
        });
        let _ = notify.join();
    }
}

/// Waits until the scheduler at `url` accepts a connection, trying every half second for up to
/// `timeout`; the error names the URL.
pub async fn wait_for_scheduler(url: &SchedulerUrl, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let attempt = left
            .min(Duration::from_secs(2))
            .max(Duration::from_millis(100));
        match url.check_reachable(attempt).await {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(EngineError::Usage(format!(
                    "{e}; gave up after {} s",
                    timeout.as_secs()
                )));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// `bind` with a port the system has free now.
fn free_port(bind: SocketAddr) -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(bind)
        .map_err(|e| EngineError::Usage(format!("cannot listen on {bind}: {}", error_chain(&e))))?;
    listener
        .local_addr()
        .map_err(|e| EngineError::Usage(format!("cannot listen on {bind}: {e}")))
}
