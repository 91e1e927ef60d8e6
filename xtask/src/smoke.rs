//! The commands that the README and `cargo xtask`'s usage text name, each exercised by `cargo
//! xtask test` as a user runs it (through this very program), briefly, with what it must print
//! or serve checked: removing or breaking any of them fails the tests, and a command named
//! without an entry here fails xtask's own unit test.

use crate::command::{Result, root};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How `cargo xtask test` exercises a command.
pub enum Exercise {
    /// Run at the end of the tests with these arguments; the check reads what it printed.
    Run {
        args: fn() -> Result<Vec<String>>,
        check: fn(&str) -> Result,
    },
    /// Started on this port at the end of the tests until it serves the app, then stopped.
    Serve { port: u16 },
    /// Run by the tests before the smoke runs, as the text says.
    Earlier(&'static str),
}

/// Every command, with how the tests exercise it.
pub const COMMANDS: [(&str, Exercise); 7] = [
    (
        "test",
        Exercise::Earlier("CI runs `cargo xtask test` itself (.ci/run)"),
    ),
    (
        "build",
        Exercise::Earlier("`cargo xtask test` builds the page by running `cargo xtask build`"),
    ),
    (
        "setup",
        Exercise::Run {
            args: || Ok(vec!["setup".to_string()]),
            check: |_| Ok(()),
        },
    ),
    (
        "mnist",
        Exercise::Run {
            args: mnist_args,
            check: mnist_accuracy,
        },
    ),
    (
        "bench",
        Exercise::Run {
            args: || Ok(vec!["bench".to_string(), "quick".to_string()]),
            check: every_figure_read,
        },
    ),
    (
        "fuzz",
        Exercise::Run {
            args: || Ok(["fuzz", "all", "10"].map(String::from).to_vec()),
            check: crate::fuzz::every_target_clean,
        },
    ),
    ("serve", Exercise::Serve { port: 8093 }),
];

/// The official MNIST test set, where the README's `mnist` command reads it.
const MNIST_TEST_SET: &str = "../shared/data/mnist-t10k";
/// Test accuracy (percent) the MLP must pass after one epoch on 1,000 digits (it reaches 70%):
/// chance is 10%, so a broken engine or data path fails.
const MNIST_SMOKE_ACCURACY: f64 = 50.0;
/// How long `serve` may take to build and answer.
const SERVE_LIMIT: Duration = Duration::from_secs(900);

/// Runs every [`Exercise::Run`] and [`Exercise::Serve`], in the table's order.
pub fn run_all() -> Result {
    for (name, exercise) in &COMMANDS {
        match exercise {
            Exercise::Earlier(how) => eprintln!("`cargo xtask {name}`: exercised: {how}"),
            Exercise::Run { args, check } => {
                let args = args()?;
                eprintln!("\n== smoke run of `cargo xtask {}`", args.join(" "));
                let printed = run_printing(this_program()?.args(&args))?;
                check(&printed).map_err(|why| format!("`cargo xtask {name}`: {why}"))?;
            }
            Exercise::Serve { port } => {
                eprintln!("\n== smoke run of `cargo xtask {name} --port {port}`");
                serve_until_answered(*port)?;
            }
        }
    }
    Ok(())
}

/// This xtask binary, so that a smoke run goes through the same command line as a user's.
pub fn this_program() -> Result<Command> {
    let program =
        std::env::current_exe().map_err(|error| format!("cannot find xtask itself: {error}"))?;
    let mut command = Command::new(program);
    command.current_dir(root());
    Ok(command)
}

/// Runs `command`, showing and returning its standard output.
fn run_printing(command: &mut Command) -> Result<String> {
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("cannot start {command:?}: {error}"))?;
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    print!("{printed}");
    if output.status.success() {
        Ok(printed)
    } else {
        Err(format!("{command:?} failed ({})", output.status))
    }
}

fn mnist_args() -> Result<Vec<String>> {
    let test_set = root().join(MNIST_TEST_SET);
    if !test_set.is_dir() {
        return Err(format!(
            "the official MNIST test set is expected in {} (the README's `mnist` command reads \
             it from there)",
            test_set.display()
        ));
    }
    let args = [
        "mnist",
        "--model",
        "mlp",
        "--epochs",
        "1",
        "--limit",
        "1000",
        "--test-idx",
    ];
    let mut args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    args.push(test_set.to_string_lossy().into_owned());
    Ok(args)
}

/// The last line must read `test accuracy: NN.NN%`, well above chance.
fn mnist_accuracy(printed: &str) -> Result {
    let last = printed.lines().last().unwrap_or_default();
    let accuracy = last
        .strip_prefix("test accuracy: ")
        .and_then(|rest| rest.strip_suffix('%'))
        .and_then(|number| number.parse::<f64>().ok())
        .ok_or_else(|| format!("its last line is {last:?}, not `test accuracy: NN.NN%`"))?;
    if accuracy < MNIST_SMOKE_ACCURACY {
        return Err(format!(
            "test accuracy {accuracy}% after one epoch on 1,000 digits, below \
             {MNIST_SMOKE_ACCURACY}%"
        ));
    }
    Ok(())
}

/// `bench quick` fails by itself when a figure is missing; this checks it said so.
fn every_figure_read(printed: &str) -> Result {
    match printed
        .lines()
        .any(|line| line.starts_with("# bench quick: all ") && line.ends_with("printed and read"))
    {
        true => Ok(()),
        false => Err("it never said that every figure was printed and read".to_string()),
    }
}

/// Starts `serve --port port` in a process group of its own, waits until it serves the page
/// and its wasm modules (compressed where asked), and stops the group.
fn serve_until_answered(port: u16) -> Result {
    let mut command = this_program()?;
    command.args(["serve", "--port", &port.to_string()]);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command
        .spawn()
        .map_err(|error| format!("cannot start `cargo xtask serve`: {error}"))?;
    let mut server = Server(child);
    let start = Instant::now();
    let page = loop {
        if let Some(status) = server.0.try_wait().map_err(|e| e.to_string())? {
            return Err(format!(
                "`cargo xtask serve` stopped ({status}) before serving"
            ));
        }
        if start.elapsed() > SERVE_LIMIT {
            return Err(format!(
                "`cargo xtask serve` did not serve the page within {} s",
                SERVE_LIMIT.as_secs()
            ));
        }
        match get(port, "/") {
            Ok(page) if page.contains("<title>Neural Playground</title>") => break page,
            _ => std::thread::sleep(Duration::from_secs(2)),
        }
    };
    let loader = loader_path(&page).ok_or("the served page names no loader script")?;
    let modules = wasm_paths(&get(port, &loader)?);
    if modules.is_empty() {
        return Err(format!(
            "the loader {loader} names no wasm module of the app"
        ));
    }
    for module in &modules {
        let body = get_bytes(port, module, "")?;
        if !body.starts_with(b"\0asm") {
            return Err(format!("{module} as served is not a wasm module"));
        }
        let brotli = get_bytes(port, module, "gzip, br")?;
        if brotli.len() * 2 > body.len() {
            return Err(format!(
                "{module} was not sent compressed to a browser that accepts brotli ({} bytes)",
                brotli.len()
            ));
        }
        eprintln!(
            "`cargo xtask serve` served the page and {module} ({} bytes, {} with brotli) after \
             {:.0} s",
            body.len(),
            brotli.len(),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The serve process group, stopped when dropped, whatever happened.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.0.wait();
    }
}

/// The path of the page's loader script: `<script type="module" src="./loader-<hash>.js">`.
fn loader_path(page: &str) -> Option<String> {
    let start = page.find("src=\"./loader-")? + "src=\".".len();
    let end = start + page[start..].find('"')?;
    Some(page[start..end].to_string())
}

/// The wasm modules the loader may start: every quoted `./neural-playground…` build name in
/// it, which the loader completes with `_bg.wasm`, each once.
fn wasm_paths(loader: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (start, quote) in loader.match_indices(['"', '\'']) {
        let rest = &loader[start + quote.len()..];
        let Some(name) = rest.strip_prefix("./neural-playground") else {
            continue;
        };
        let Some(end) = name.find(['"', '\'']) else {
            continue;
        };
        let module = format!("/neural-playground{}_bg.wasm", &name[..end]);
        if !paths.contains(&module) {
            paths.push(module);
        }
    }
    paths
}

fn get(port: u16, path: &str) -> Result<String> {
    Ok(String::from_utf8_lossy(&get_bytes(port, path, "")?).into_owned())
}

/// The body of `GET path` on 127.0.0.1:`port`, if the answer is 200, asking for the content
/// encodings `accept_encoding` (none if empty).
fn get_bytes(port: u16, path: &str, accept_encoding: &str) -> Result<Vec<u8>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: {accept_encoding}\r\n\
         Connection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    let head_end = answer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or("no HTTP header")?;
    let head = String::from_utf8_lossy(&answer[..head_end]);
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("GET {path}: {}", head.lines().next().unwrap_or("")));
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Err(format!("GET {path}: a chunked answer (not read here)"));
    }
    Ok(answer[head_end + 4..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `cargo xtask <command>` names in `text` (the README).
    fn commands_named(text: &str) -> Vec<String> {
        text.split("cargo xtask ")
            .skip(1)
            .filter_map(|rest| {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                (!name.is_empty()).then_some(name)
            })
            .collect()
    }

    /// The commands of the usage text: the first word of each line indented by two spaces.
    fn commands_in_usage(usage: &str) -> Vec<String> {
        usage
            .lines()
            .filter_map(|line| line.strip_prefix("  "))
            .filter(|line| !line.starts_with(' '))
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_string)
            .collect()
    }

    fn has_entry(name: &str) -> bool {
        COMMANDS.iter().any(|(command, _)| *command == name)
    }

    #[test]
    fn every_command_the_readme_and_the_usage_name_is_exercised() {
        let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
        let named = commands_named(&readme);
        assert!(named.contains(&"mnist".to_string()), "{named:?}");
        let in_usage = commands_in_usage(crate::USAGE);
        assert!(in_usage.contains(&"fuzz".to_string()), "{in_usage:?}");
        for name in named.iter().chain(&in_usage) {
            assert!(
                has_entry(name),
                "`cargo xtask {name}` is named but not exercised by `cargo xtask test`: add it \
                 to smoke::COMMANDS"
            );
        }
        for (name, _) in &COMMANDS {
            assert!(
                in_usage.contains(&name.to_string()),
                "{name} is not in the usage text"
            );
        }
    }

    #[test]
    fn the_mnist_check_wants_an_accuracy_line_above_chance() {
        assert!(mnist_accuracy("epoch 1/1\ntest accuracy: 70.10%\n").is_ok());
        assert!(mnist_accuracy("test accuracy: 9.80%").is_err());
        assert!(mnist_accuracy("training time: 0.1 s").is_err());
        assert!(mnist_accuracy("").is_err());
    }

    #[test]
    fn the_module_paths_are_read_from_the_page_and_its_loader() {
        let page = r#"<link rel="stylesheet" href="./style-00.css" />
            <script type="module" src="./loader-1a2b.js"></script>"#;
        assert_eq!(loader_path(page).as_deref(), Some("/loader-1a2b.js"));
        assert_eq!(loader_path("<script src=\"./other.js\">"), None);
        let loader = "const build = fast ? \"./neural-playground-relaxed-simd-5e\" : \
                      \"./neural-playground-e2\";\nconst bindings = await import(build + \".js\");";
        assert_eq!(
            wasm_paths(loader),
            vec![
                "/neural-playground-relaxed-simd-5e_bg.wasm",
                "/neural-playground-e2_bg.wasm"
            ]
        );
        assert!(wasm_paths("import('./other.js')").is_empty());
    }
}
