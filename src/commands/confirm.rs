//! The one confirm prompt of the commands that write without `--yes`:
//! the question on stderr, the answer from stdin, and only `yes` goes on.
//! Without a terminal to ask on, the command is refused.

use std::io::{IsTerminal, Write};

use crate::error::Error;

/// Asks `question` (it ends where the answer is typed) when a terminal is
/// attached: `yes` goes on, any other answer is the usage error
/// `cancelled`. Without a terminal, the usage error `no_terminal`.
pub fn ask(question: &str, no_terminal: &str, cancelled: &str) -> Result<(), Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(no_terminal.into()));
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question}Only 'yes' is accepted: ");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Error::io(std::path::Path::new("<stdin>"), e))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::Usage(cancelled.into()))
    }
}
