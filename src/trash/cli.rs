//! `helix trash list|restore|empty`.

use clap::Subcommand;

use crate::error::Result;

#[derive(Subcommand, Debug)]
pub enum TrashCommand {
    /// Everything in the trash, newest first: id, where it came from, size, why, which run.
    List {
        /// Print JSON (with where each item is stored) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Put an item back where it came from (by id, id prefix, or its original path). Refuses
    /// when something now stands there.
    Restore {
        /// The item: its id, a unique prefix of it, or its original path.
        item: String,
    },
    /// Delete trash items for good (asks at the terminal; type `empty` to go ahead).
    Empty {
        /// Only items trashed longer ago than this: `7d`, `12h`, `2w`.
        #[arg(long, value_name = "AGE")]
        older_than: Option<String>,
    },
}

pub(crate) fn trash(cmd: TrashCommand, config: crate::config::Config) -> Result<i32> {
    let _ = crate::run::Run::new(false, false, false, config).install();
    match cmd {
        TrashCommand::List { json } => {
            let items = super::list()?;
            if json {
                let v: Vec<serde_json::Value> = items
                    .iter()
                    .map(|i| {
                        let mut v = serde_json::to_value(i).unwrap_or_default();
                        v["stored"] = serde_json::json!(i.stored());
                        v
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                return Ok(0);
            }
            if items.is_empty() {
                println!("the helix trash is empty");
                return Ok(0);
            }
            let mut rows = vec![vec![
                "ID".into(),
                "TRASHED".into(),
                "KIND".into(),
                "SIZE".into(),
                "WHY".into(),
                "RUN".into(),
                "ORIGINAL".into(),
            ]];
            for i in &items {
                rows.push(vec![
                    i.id.clone(),
                    i.trashed_at.clone(),
                    i.kind.clone(),
                    crate::size::format(i.size),
                    i.reason.clone(),
                    i.run.clone().unwrap_or_else(|| "-".into()),
                    i.original.display().to_string(),
                ]);
            }
            print!("{}", crate::ui::table_fitted_keeping(&rows, crate::ui::output_width(), 1));
            Ok(0)
        }
        TrashCommand::Restore { item } => {
            let found = super::find(&item)?;
            super::restore(&found)?;
            println!("restored `{}`", found.original.display());
            Ok(0)
        }
        TrashCommand::Empty { older_than } => {
            let age = older_than.as_deref().map(super::parse_age).transpose()?;
            let n = super::empty(age)?;
            if n == 0 {
                println!("nothing to empty");
            } else {
                println!("deleted {n} item{} for good", if n == 1 { "" } else { "s" });
            }
            Ok(0)
        }
    }
}
