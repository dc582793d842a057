//! What the classifier cannot see counts as destructive: inline code, wrappers it does not
//! parse, environment that changes what runs, options that run commands.

use super::*;

/// Code the classifier cannot see, wrappers it does not parse, environment that changes what
/// runs, git and ssh options that run commands, overwriting tools: all destructive.
const DEFAULT_DENY: &[(&str, &str)] = &[
    ("python3 -c 'import shutil; shutil.rmtree(\"x\")'", "s"),
    ("python3 script.sh", "a"),
    ("python -c pass", "a"),
    ("perl -e 'unlink \"x\"'", "s"),
    ("ruby -e 'File.delete(\"x\")'", "s"),
    ("node -e 'require(\"fs\").rmSync(\"x\")'", "s"),
    ("awk 'BEGIN{system(\"rm -rf x\")}'", "s"),
    ("awk '{print > \"existing.txt\"}' base.img", "s"),
    ("awk -f prog.awk", "a"),
    ("sh script.sh", "a"),
    ("bash script.sh", "a"),
    (". ./script.sh", "s"),
    ("source script.sh", "s"),
    ("sh < script.sh", "s"),
    ("bash --rcfile script.sh -i", "a"),
    ("make -f - all", "a"),
    ("make", "a"),
    ("make -C /tmp", "a"),
    ("make --eval='x:;rm -rf y' x", "a"),
    ("ninja -f other.ninja", "a"),
    ("cmake -E rm -rf x", "a"),
    ("cmake -E remove_directory x", "a"),
    ("cmake -P script.cmake", "a"),
    ("su -c 'rm -rf x' root", "a"),
    ("runuser -u luke -- rm -rf x", "a"),
    ("setpriv --reuid=1000 rm -rf x", "a"),
    ("chroot / rm -rf x", "a"),
    ("nsenter -t 1 -m rm -rf x", "a"),
    ("taskset -c 0 ls", "a"),
    ("chrt -f 10 ls", "a"),
    ("strace -o out.txt ls", "a"),
    ("script -qc 'rm -rf x' /dev/null", "a"),
    ("at now", "a"),
    ("env -S 'rm -rf x'", "a"),
    ("env -vS 'rm -rf x'", "a"),
    ("env -S'rm -rf x'", "a"),
    ("alias ls='rm -rf x'; ls", "s"),
    ("trap 'rm -rf x' EXIT", "s"),
    ("BASH_ENV=script.sh bash -c true", "s"),
    ("env 'BASH_FUNC_ls%%=() { rm -rf x; }' bash -c ls", "a"),
    ("env LD_PRELOAD=/tmp/x.so ls", "a"),
    ("git -c alias.x='!rm -rf y' x", "a"),
    ("git -c core.fsmonitor='rm -rf y' status", "a"),
    ("git -c core.sshCommand='rm -rf y' fetch", "a"),
    ("git -c core.hooksPath=/tmp/hooks commit -m x", "a"),
    ("git reset --har", "a"),
    ("git reset --ha HEAD", "a"),
    ("git clean --for", "a"),
    ("git clean --force -d", "a"),
    ("git checkout existing.txt", "a"),
    ("git checkout HEAD existing.txt", "a"),
    ("git switch -f main", "a"),
    ("git switch --discard-changes main", "a"),
    ("git read-tree -u -m HEAD", "a"),
    ("git checkout-index -a -f", "a"),
    ("git config alias.x '!rm -rf y'", "a"),
    ("git clone ext::sh x", "a"),
    ("git fetch --upload-pack='rm -rf x' origin", "a"),
    ("git submodule foreach 'rm -rf x'", "a"),
    ("ssh -o ProxyCommand='rm -rf x' vm true", "a"),
    ("ssh -oProxyCommand=sh vm true", "a"),
    ("ssh -o 'LocalCommand rm -rf x' -o PermitLocalCommand=yes vm", "a"),
    ("ssh -F cfg vm true", "a"),
    ("scp -o ProxyCommand=sh a vm:b", "a"),
    ("rsync -e 'sh -c x' a vm:b", "a"),
    ("qemu-io -c 'write 0 1M' disk.qcow2", "a"),
    ("qemu-io disk.qcow2", "a"),
    ("debugfs -w -R 'rm /x' base.img", "a"),
    ("install new.txt existing.txt", "a"),
    ("tar -xf a.tar -C dir", "a"),
    ("tar xf a.tar", "a"),
    ("cp -rT dir other", "a"),
    ("cp -T new.txt existing.txt", "a"),
    ("curl -o existing.txt https://example.com", "a"),
    ("curl --output=existing.txt https://example.com", "a"),
    ("wget -O existing.txt https://example.com", "a"),
    ("sort -o existing.txt base.img", "a"),
    ("mv existing.txt /dev/null", "a"),
    ("mv existing.txt /tmp/elsewhere-helix-test", "a"),
    ("sed -i s/a/b/ existing.txt", "a"),
    ("rm -ri dir", "p"),
    ("yes | rm -ri dir", "s"),
    ("osascript -e 'do shell script \"rm -rf x\"'", "a"),
    ("vim -c ':!rm -rf x' -c q", "a"),
    ("emacs --batch --eval '(delete-directory \"x\" t)'", "a"),
    ("ssh vm sh", "p"),
    ("ssh vm", "p"),
    ("ssh vm bash -s", "p"),
];

#[test]
fn code_the_classifier_cannot_see_is_destructive() {
    let d = fixture();
    std::fs::write(d.path().join("cfg"), "ProxyCommand sh\n").unwrap();
    std::fs::create_dir_all(d.path().join("other")).unwrap();
    let missed: Vec<&str> = DEFAULT_DENY
        .iter()
        .filter(|(f, k)| match *k {
            // "p": stdin carries a script (`rm -rf x`), as `cmd::run(…, #{stdin})` would.
            "p" => command(&words(f), Some(d.path()), Some(b"rm -rf x\n"), &Default::default())
                .is_none(),
            _ => classify(f, k, d.path()).is_none(),
        })
        .map(|(f, _)| *f)
        .collect();
    assert!(missed.is_empty(), "not classified destructive: {missed:#?}");
}

fn env_map(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn environment_overrides_through_the_env_map_are_destructive() {
    let d = fixture();
    let fake = d.path().join("bin");
    std::fs::create_dir_all(&fake).unwrap();
    let ls = fake.join("ls");
    std::fs::write(&ls, "#!/bin/sh\nrm -rf \"$HOME\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ls, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", fake.display(), std::env::var("PATH").unwrap());
    for env in [
        env_map(&[("BASH_ENV", "/tmp/x.sh")]),
        env_map(&[("BASH_FUNC_ls%%", "() { rm -rf x; }")]),
        env_map(&[("ENV", "/tmp/x.sh")]),
        env_map(&[("PATH", path.as_str())]),
        env_map(&[("GIT_SSH_COMMAND", "rm -rf x")]),
    ] {
        let argv: Vec<String> = ["sh", "-c", "ls"].iter().map(|s| s.to_string()).collect();
        assert!(command(&argv, Some(d.path()), None, &env).is_some(), "{env:?}");
    }
    // A PATH that finds the same programs (the build's sysroot before the system's) is fine.
    let harmless =
        format!("{}:{}", d.path().join("nothing-here").display(), std::env::var("PATH").unwrap());
    let argv: Vec<String> = ["ls"].iter().map(|s| s.to_string()).collect();
    assert!(command(&argv, Some(d.path()), None, &env_map(&[("PATH", &harmless)])).is_none());
}
