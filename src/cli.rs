//! What the `crp` binary shares with the provider (feature `cli`, never in
//! the Lambda's build): the same SDK configuration and TLS stack, the same
//! partition table, and the switch that words Reasons for a terminal.

pub use crate::aws::config_loader;
pub use crate::aws_error::{Audience, Terminal, address_reasons_to};
pub use crate::input::{partition_of, url_suffix_of};
pub use crate::net::{CaBundle, SdkHttpClient, TlsError, client_config};
