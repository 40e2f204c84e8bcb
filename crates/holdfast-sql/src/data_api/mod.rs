//! Aurora (PostgreSQL or MySQL) through the RDS Data API: `data-api://CLUSTER_ARN?secret=…&
//! database=…[&engine=postgres|mysql]`.
//!
//! [`target`] parses the URL by hand (cluster ARNs are full of colons), [`client`] makes the
//! calls and turns their errors into SQLSTATE + primary message, [`records`] reads typed
//! records, [`lock`] is the leased lock row that stands in for a session lock, and
//! `session` implements the [`Backend`](crate::Backend) over them.

pub mod client;
pub mod lock;
pub mod records;
mod session;
pub mod target;

pub(crate) use session::DataApiSession;
pub use target::{DataApiEngine, DataApiTarget};
