//! `tovor completions SHELL` and `tovor man`: generated from the command line's own
//! definition, so they never fall behind it.

use std::path::PathBuf;

use anyhow::Context;

use crate::output::out;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for. Bash: `tovor completions bash > \
    /// /etc/bash_completion.d/tovor`; zsh: into a folder of `$fpath` as `_tovor`; fish:
    /// `~/.config/fish/completions/tovor.fish`.
    shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write a page per command (`tovor.1`, `tovor-serve.1`, ...) into this folder
    /// instead of printing `tovor.1`.
    #[arg(long)]
    dir: Option<PathBuf>,
}

pub fn completions(mut command: clap::Command, args: &CompletionsArgs) {
    let name = command.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    out!("{}", String::from_utf8_lossy(&script));
}

pub fn man(command: clap::Command, args: &ManArgs) -> anyhow::Result<()> {
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the man pages to {}", dir.display()))
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .context("cannot render the man page")?;
            out!("{}", String::from_utf8_lossy(&page));
            Ok(())
        }
    }
}
