//! `baton-simulator`: runs the WhatsApp simulator on its own port, for manual testing and demos. Point Baton's
//! `BATON_WHATSAPP_GRAPH_URL` at it, give it Baton's webhook URL, and open it in a browser to chat as a
//! customer.

use std::net::SocketAddr;

use anyhow::Context;
use baton_simulator::{Config, Simulator};
use clap::Parser;

/// A stand-in for Meta's WhatsApp Cloud API: Graph API, signed webhooks and a customer-phone page.
#[derive(Parser)]
#[command(name = "baton-simulator", version)]
struct Arguments {
    /// Address to listen on.
    #[arg(long, env = "BATON_SIMULATOR_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// Baton's webhook endpoint, e.g. http://127.0.0.1:8080/webhooks/whatsapp.
    #[arg(long, env = "BATON_SIMULATOR_WEBHOOK_URL")]
    webhook_url: Option<String>,
    /// The app secret webhooks are signed with (Baton must be configured with the same).
    #[arg(
        long,
        env = "BATON_SIMULATOR_APP_SECRET",
        default_value = "test_app_secret",
        hide_default_value = true,
        hide_env_values = true
    )]
    app_secret: String,
    /// The Bearer token the Graph API accepts (Baton must be configured with the same).
    #[arg(
        long,
        env = "BATON_SIMULATOR_ACCESS_TOKEN",
        default_value = "test_access_token",
        hide_default_value = true,
        hide_env_values = true
    )]
    access_token: String,
    #[arg(long, env = "BATON_SIMULATOR_PHONE_NUMBER_ID", default_value = "106000000000001")]
    phone_number_id: String,
    #[arg(long, env = "BATON_SIMULATOR_DISPLAY_PHONE_NUMBER", default_value = "15550001111")]
    display_phone_number: String,
    #[arg(long, env = "BATON_SIMULATOR_WABA_ID", default_value = "102000000000001")]
    waba_id: String,
    /// The business name the phone page shows.
    #[arg(long, env = "BATON_SIMULATOR_BUSINESS_NAME", default_value = "Baton Demo Shop")]
    business_name: String,
    #[arg(long, env = "BATON_SIMULATOR_API_VERSION", default_value = "v23.0")]
    api_version: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let arguments = Arguments::parse();
    let config = Config {
        webhook_url: arguments.webhook_url,
        app_secret: arguments.app_secret,
        access_token: arguments.access_token,
        phone_number_id: arguments.phone_number_id,
        display_phone_number: arguments.display_phone_number,
        waba_id: arguments.waba_id,
        business_name: arguments.business_name,
        api_version: arguments.api_version,
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind(arguments.listen)
        .await
        .with_context(|| format!("cannot listen on {}", arguments.listen))?;
    let simulator = Simulator::start(config, listener).await?;
    println!("WhatsApp simulator: phone page and Graph API at {}", simulator.base_url());
    match simulator.webhook_url() {
        Some(url) => println!("webhooks go to {url}"),
        None => println!("no --webhook-url: set one with PUT {}/_sim/settings", simulator.base_url()),
    }
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    simulator.shutdown().await;
    Ok(())
}
