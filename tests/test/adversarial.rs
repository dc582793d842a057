//! The guard's adversarial suite (issue 13): destructive forms in every category — spellings,
//! wrappers, shells, interpreters, environment, git, ssh, overwriting tools, links and `cd`,
//! laundering through commands, targets only known at run time — each run through the real
//! `helix` binary twice: with stdin from `/dev/null` and no controlling terminal, and with `yes`
//! piped into stdin. Every one must be refused (with no terminal, asked means refused) and
//! every target — a git repo with dirty work, a qcow2 made with real `qemu-img` holding data, a
//! `*.backup` dir, a protected VM dir, a plain data dir — must be byte-identical afterwards.
//! Then the ordinary forms the recipes run must pass unasked. Everything runs inside the
//! throwaway overlay namespace, so a guard bug cannot damage the machine.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use crate::support::builder::Test;

/// `(category, Rhai body)`. Placeholders: `{T}` a data dir (not the run's), `{F}` a file in it,
/// `{VM}` a protected VM dir, `{VMS}` its parent, `{Q}` the qcow2 in it, `{B}` a `*.backup`
/// dir, `{R}` a git repo with dirty work, `{D}` the fixture root (scratch files beside them).
const DESTRUCTIVE: &[(&str, &str)] = &[
    // rm and other deleters, every spelling
    ("rm", r#"cmd::run(["rm", "-rf", "{T}"]);"#),
    ("rm", r#"cmd::run(["rm", "-fr", "{VM}"]);"#),
    ("rm", r#"cmd::run(["rm", "-r", "-f", "{B}"]);"#),
    ("rm", r#"cmd::run(["rm", "--recursive", "--force", "{T}"]);"#),
    ("rm", r#"cmd::run(["rm", "--rec", "--for", "{T}"]);"#),
    ("rm", r#"cmd::run(["/bin/rm", "-rf", "{T}"]);"#),
    ("rm", r#"cmd::run(["rm", "-f", "{F}"]);"#),
    ("rm", r#"cmd::run(["rm", "{F}"]);"#),
    ("rm", r#"cmd::run(["rm", "-rf", "{T}/"]);"#),
    ("rm", r#"cmd::run(["rm", "-rf", "{R}"]);"#),
    ("rm", r#"cmd::run(["rm", "-f", "{Q}"]);"#),
    ("rm", r#"cmd::run(["rm", "-ri", "{T}"], #{ stdin: "y\ny\ny\ny\ny\ny\ny\n" });"#),
    ("rm", r#"cmd::run(["rm", "-rf", "{T}"], #{ cwd: "/" });"#),
    ("rm", r#"cmd::run(["rm", "-rf", "target"], #{ cwd: "{D}" });"#),
    ("rm", r#"cmd::run(["rm", "-rf", "../target"], #{ cwd: "{D}/other" });"#),
    ("rm", r#"cmd::run(["rmdir", "{T}/empty"]);"#),
    ("rm", r#"cmd::run(["unlink", "{F}"]);"#),
    ("rm", r#"cmd::run(["shred", "-u", "{F}"]);"#),
    ("rm", r#"cmd::run(["truncate", "-s", "0", "{F}"]);"#),
    ("rm", r#"cmd::run(["truncate", "-s", "0", "{Q}"]);"#),
    ("rm", r#"cmd::run(["find", "{T}", "-delete"]);"#),
    ("rm", r#"cmd::run(["find", "{T}", "-type", "f", "-exec", "rm", "{}", ";"]);"#),
    ("rm", r#"cmd::run(["find", "{VMS}", "-name", "*.qcow2", "-delete"]);"#),
    ("disk", r#"cmd::run(["dd", "if=/dev/zero", "of={Q}", "bs=1k", "count=1", "conv=notrunc"]);"#),
    ("disk", r#"cmd::run(["dd", "if=/dev/zero", "of={F}", "count=1"]);"#),
    ("disk", r#"cmd::run(["mkfs.ext4", "-F", "{Q}"]);"#),
    ("disk", r#"cmd::run(["mkswap", "{F}"]);"#),
    ("disk", r#"cmd::run(["wipefs", "-a", "{Q}"]);"#),
    ("disk", r#"cmd::run(["fallocate", "-p", "-o", "0", "-l", "4096", "{Q}"]);"#),
    ("disk", r#"cmd::run(["qemu-img", "create", "-f", "qcow2", "{Q}", "1M"]);"#),
    ("disk", r#"cmd::run(["qemu-img", "convert", "-O", "qcow2", "{D}/other.qcow2", "{Q}"]);"#),
    ("disk", r#"cmd::run(["qemu-img", "resize", "--shrink", "{Q}", "512K"]);"#),
    ("disk", r#"cmd::run(["qemu-io", "-c", "write -P 0 0 64k", "{Q}"]);"#),
    ("disk", r#"cmd::run(["qemu-io", "{Q}"], #{ stdin: "write 0 64k\n" });"#),
    ("disk", r#"cmd::run(["debugfs", "-w", "-R", "rm /x", "{Q}"]);"#),
    // every entry point of the cmd:: API
    ("entry", r#"cmd::run_logged(["rm", "-rf", "target"], "{D}/log.txt", #{ cwd: "{D}" });"#),
    ("entry", r#"cmd::run_logged(["sh"], "{D}/log.txt", #{ stdin: "rm -rf {T}\n" });"#),
    ("entry", r#"cmd::unchecked(["rm", "-rf", "{T}"]);"#),
    ("entry", r#"cmd::output(["rm", "-rf", "{T}"]);"#),
    ("entry", r#"cmd::query(["rm", "-rf", "{T}"]);"#),
    ("entry", r#"cmd::sudo(["rm", "-rf", "{T}"]);"#),
    ("entry", r#"cmd::run(["rm", "-rf", "vm"], #{ cwd: "{VMS}" });"#),
    // wrappers helix looks through
    ("wrapper", r#"cmd::run(["sudo", "rm", "-rf", "{T}"]);"#),
    ("wrapper", r#"cmd::run(["sudo", "-u", "root", "rm", "-rf", "{T}"]);"#),
    ("wrapper", r#"cmd::run(["env", "FOO=1", "rm", "-rf", "{T}"]);"#),
    ("wrapper", r#"cmd::run(["env", "-i", "PATH=/bin:/usr/bin", "rm", "-rf", "{T}"]);"#),
    ("wrapper", r#"cmd::run(["nice", "-n", "5", "rm", "-rf", "{T}"]);"#),
    ("wrapper", r#"cmd::run(["nohup", "rm", "-rf", "{T}"]);"#),
    ("wrapper", r#"cmd::run(["timeout", "10", "rm", "-rf", "{T}"]);"#),
    ("wrapper", r#"cmd::run(["stdbuf", "-oL", "rm", "-rf", "{T}"]);"#),
    ("wrapper", r#"cmd::run(["setsid", "rm", "-rf", "{T}"]);"#),
    ("wrapper", r#"cmd::run(["ionice", "-c", "3", "rm", "-rf", "{T}"]);"#),
    ("wrapper", r#"cmd::run(["flock", "{D}/lock", "rm", "-rf", "{T}"]);"#),
    ("wrapper", r#"cmd::run(["busybox", "rm", "-rf", "{T}"]);"#),
    ("wrapper", r#"cmd::run(["xargs", "rm", "-rf"], #{ stdin: "{T}\n" });"#),
    (
        "wrapper",
        r#"cmd::run(["sudo", "nice", "-n", "5", "env", "A=b", "nohup", "/bin/rm", "-rf", "{VM}"]);"#,
    ),
    // wrappers helix does not look through
    ("opaque", r#"cmd::run(["su", "-c", "rm -rf {T}", "root"]);"#),
    ("opaque", r#"cmd::run(["runuser", "-u", "root", "--", "rm", "-rf", "{T}"]);"#),
    ("opaque", r#"cmd::run(["setpriv", "--reuid=0", "rm", "-rf", "{T}"]);"#),
    ("opaque", r#"cmd::run(["chroot", "/", "rm", "-rf", "{T}"]);"#),
    ("opaque", r#"cmd::run(["nsenter", "-t", "1", "-m", "rm", "-rf", "{T}"]);"#),
    ("opaque", r#"cmd::run(["unshare", "-m", "rm", "-rf", "{T}"]);"#),
    ("opaque", r#"cmd::run(["taskset", "-c", "0", "rm", "-rf", "{T}"]);"#),
    ("opaque", r#"cmd::run(["chrt", "-o", "0", "rm", "-rf", "{T}"]);"#),
    ("opaque", r#"cmd::run(["strace", "-f", "-o", "/dev/null", "rm", "-rf", "{T}"]);"#),
    ("opaque", r#"cmd::run(["script", "-qec", "rm -rf {T}", "/dev/null"]);"#),
    ("opaque", r#"cmd::run(["at", "now"], #{ stdin: "rm -rf {T}\n" });"#),
    ("opaque", r#"cmd::run(["env", "-S", "rm -rf {T}"]);"#),
    ("opaque", r#"cmd::run(["env", "-vS", "rm -rf {T}"]);"#),
    ("opaque", r#"cmd::run(["env", "-Srm -rf {T}"]);"#),
    ("opaque", r#"cmd::run(["env", "--split-string=rm -rf {T}"]);"#),
    // shells: argv, stdin, heredocs, nesting
    ("shell", r#"cmd::run(["sh", "-c", "rm -rf {T}"]);"#),
    ("shell", r#"cmd::run(["bash", "-lc", "cd {T} && rm -rf *"]);"#),
    ("shell", r#"cmd::run(["sh", "-c", "sh -c 'rm -rf {T}'"]);"#),
    ("shell", r#"cmd::run(["sh"], #{ stdin: "rm -rf {T}\n" });"#),
    ("shell", r#"cmd::run(["bash", "-s"], #{ stdin: "rm -rf {VM}\n" });"#),
    ("shell", r#"cmd::run(["sh", "{D}/evil.sh"]);"#),
    ("shell", r#"cmd::run(["bash", "--rcfile", "{D}/evil.sh", "-i"]);"#),
    ("shell", r#"cmd::shell("rm -rf {T}");"#),
    ("shell", r#"cmd::shell(". {D}/evil.sh");"#),
    ("shell", r#"cmd::shell("source {D}/evil.sh");"#),
    ("shell", r#"cmd::shell("sh < {D}/evil.sh");"#),
    ("shell", r#"cmd::shell("sh <<EOF\nrm -rf {T}\nEOF\n");"#),
    ("shell", r#"cmd::shell("bash <<< 'rm -rf {T}'");"#),
    ("shell", r#"cmd::shell("eval 'rm -rf {T}'");"#),
    ("shell", r#"cmd::shell("f() { rm -rf {T}; }; f");"#),
    ("shell", r#"cmd::shell("(cd {T}; rm -rf *)");"#),
    ("shell", r#"cmd::shell("true && { rm -rf {T}; }");"#),
    ("shell", r#"cmd::shell("if true; then rm -rf {T}; fi");"#),
    ("shell", r#"cmd::shell("echo $(rm -rf {T})");"#),
    ("shell", r#"cmd::shell("echo {T} | xargs rm -rf");"#),
    ("shell", r#"cmd::shell("alias ls='rm -rf {T}'; ls");"#),
    ("shell", r#"cmd::shell("trap 'rm -rf {T}' EXIT; true");"#),
    ("shell", r#"cmd::shell("echo x > {F}");"#),
    ("shell", r#"cmd::shell(": > {F}");"#),
    ("shell", r#"cmd::shell("cat /etc/hostname > {Q}");"#),
    ("shell", r#"cmd::shell("yes | rm -ri {T}");"#),
    // as the script runs: cd, variables, globs, links made earlier
    ("as-run", r#"cmd::shell("cd {VMS} && rm -rf vm");"#),
    ("as-run", r#"cmd::shell("cd {D}; cd target; rm -rf *");"#),
    ("as-run", r#"cmd::shell("cd {T} && echo x > file.txt");"#),
    ("as-run", r#"cmd::shell("D={VM}; rm -rf $D");"#),
    ("as-run", r#"cmd::shell("D={VM}; rm -rf \"$D\"/");"#),
    ("as-run", r#"cmd::shell("export X={T}; sh -c 'rm -rf $X'");"#),
    ("as-run", r#"cmd::shell("rm -rf {VMS}/v*");"#),
    ("as-run", r#"cmd::shell("rm -rf {B}/*");"#),
    ("as-run", r#"cmd::shell("rm -rf {D}/*.backup");"#),
    ("as-run", r#"cmd::shell("for d in {T} {B}; do rm -rf \"$d\"; done");"#),
    ("as-run", r#"cmd::shell("ln -s {VM} {D}/lnk; rm -rf {D}/lnk/");"#),
    ("as-run", r#"cmd::shell("ln -s {F} {D}/l2; truncate -s0 {D}/l2");"#),
    ("as-run", r#"cmd::shell("ln -s {F} {D}/l3; echo x > {D}/l3");"#),
    ("as-run", r#"cmd::shell("ln {F} {D}/h1; : > {D}/h1");"#),
    ("as-run", r#"cmd::shell("mkdir -p {D}/l4 && mv {T} {D}/l4/t && rm -rf {D}/l4");"#),
    ("as-run", r#"cmd::shell("cd {D} && ln -s target t && cd t && rm -rf sub");"#),
    // other spellings of the same paths
    ("spelling", r#"cmd::run(["rm", "-rf", "{D}/other/../target"]);"#),
    ("spelling", r#"cmd::run(["rm", "-rf", "{T}/sub/../../vms/vm"]);"#),
    ("spelling", r#"cmd::run(["rm", "-rf", "--", "{T}"]);"#),
    ("spelling", r#"cmd::run(["rm", "-rf", "{T}//"]);"#),
    ("spelling", r#"cmd::shell("cd {T}/.. && rm -rf target");"#),
    ("spelling", r#"cmd::shell("cd ~ && cd {VMS} && rm -rf ./vm/");"#),
    ("spelling", r#"cmd::shell("rm -rf {VMS}/[v]m");"#),
    ("spelling", r#"cmd::shell("rm -rf {VMS}/?m");"#),
    ("spelling", r#"cmd::shell("rm -rf {D}/data.back*");"#),
    ("spelling", r#"cmd::shell("x=tar; y=get; rm -rf {D}/${x}${y}");"#),
    ("spelling", r#"cmd::run(["sh", "-c", "rm -rf \"$1\"", "sh", "{T}"]);"#),
    ("spelling", r#"cmd::shell("set -- {T}; rm -rf \"$@\"");"#),
    (
        "spelling",
        r#"cmd::run(["find", "{D}", "-name", "*.backup", "-exec", "rm", "-rf", "{}", "+"]);"#,
    ),
    // targets only known at run time
    ("unknown", r#"cmd::shell("rm -rf $UNSET_HELIX_VAR/");"#),
    ("unknown", r#"cmd::shell("rm -rf \"$(cat {D}/list)\"");"#),
    ("unknown", r#"cmd::shell("rm -rf `cat {D}/list`");"#),
    ("unknown", r#"cmd::shell("cd \"$UNSET_HELIX_VAR\" && rm -rf vm");"#),
    ("unknown", r#"cmd::shell("rm -rf {T}/{sub,empty}");"#),
    ("unknown", r#"cmd::shell("rm -rf ${X:-{T}}");"#),
    ("unknown", r#"cmd::shell("read d < {D}/list; rm -rf \"$d\"");"#),
    ("unknown", r#"cmd::shell("$(echo rm) -rf {T}");"#),
    // interpreters and build tools
    ("interp", r#"cmd::run(["python3", "-c", "import shutil; shutil.rmtree('{T}')"]);"#),
    ("interp", r#"cmd::run(["python3", "{D}/evil.py"]);"#),
    ("interp", r#"cmd::run(["python3"], #{ stdin: "import shutil; shutil.rmtree('{T}')\n" });"#),
    ("interp", r#"cmd::run(["python3", "-"], #{ stdin: "import os; os.remove('{F}')\n" });"#),
    ("interp", r#"cmd::run(["perl", "-e", "use File::Path; rmtree('{T}')"]);"#),
    ("interp", r#"cmd::run(["perl", "-e", "unlink '{F}'"]);"#),
    ("interp", r#"cmd::run(["ruby", "-e", "File.delete('{F}')"]);"#),
    ("interp", r#"cmd::run(["node", "-e", "require('fs').rmSync('{T}', {recursive: true})"]);"#),
    ("interp", r#"cmd::run(["awk", "BEGIN{system(\"rm -rf {T}\")}"]);"#),
    ("interp", r#"cmd::run(["awk", "{print > \"{F}\"}", "/etc/hostname"]);"#),
    ("interp", r#"cmd::shell("python3 - <<EOF\nimport shutil\nshutil.rmtree('{T}')\nEOF\n");"#),
    ("interp", r#"cmd::run(["make", "-f", "-", "all"], #{ stdin: "all:\n\trm -rf {T}\n" });"#),
    ("interp", r#"cmd::run(["make", "-C", "{D}/mk"]);"#),
    ("interp", r#"cmd::run(["make"], #{ cwd: "{D}/mk" });"#),
    ("interp", r#"cmd::run(["make", "--eval=x:;rm -rf {T}", "x"]);"#),
    ("interp", r#"cmd::run(["cmake", "-E", "rm", "-rf", "{T}"]);"#),
    ("interp", r#"cmd::run(["cmake", "-E", "remove_directory", "{T}"]);"#),
    ("interp", r#"cmd::run(["cmake", "-P", "{D}/evil.cmake"]);"#),
    ("interp", r#"cmd::run(["osascript", "-e", "do shell script \"rm -rf {T}\""]);"#),
    // environment that changes what runs
    ("env", r#"cmd::run(["sh", "-c", "ls"], #{ env: #{ BASH_ENV: "{D}/evil.sh" } });"#),
    (
        "env",
        r#"cmd::run(["bash", "-c", "ls"], #{ env: #{ "BASH_FUNC_ls%%": "() { rm -rf {T}; }" } });"#,
    ),
    ("env", r#"cmd::run(["sh", "-i"], #{ env: #{ ENV: "{D}/evil.sh" } });"#),
    ("env", r#"cmd::run(["sh", "-c", "ls"], #{ env: #{ PATH: "{D}/evilbin:/usr/bin:/bin" } });"#),
    ("env", r#"cmd::run(["ls"], #{ env: #{ LD_PRELOAD: "{D}/evil.so" } });"#),
    (
        "env",
        r#"cmd::run(["git", "-C", "{R}", "fetch"], #{ env: #{ GIT_SSH_COMMAND: "rm -rf {T}" } });"#,
    ),
    ("env", r#"cmd::shell("BASH_ENV={D}/evil.sh bash -c true");"#),
    ("env", r#"cmd::shell("PATH={D}/evilbin:$PATH ls");"#),
    ("env", r#"cmd::run(["env", "BASH_FUNC_ls%%=() { rm -rf {T}; }", "bash", "-c", "ls"]);"#),
    // git
    ("git", r#"cmd::run(["git", "-C", "{R}", "reset", "--hard"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "reset", "--har"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "reset", "--ha", "HEAD"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "clean", "-fdx"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "clean", "--for", "-d"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "checkout", "--", "."]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "checkout", "."]);"#),
    ("git", r#"cmd::run(["git", "checkout", "tracked.txt"], #{ cwd: "{R}" });"#),
    ("git", r#"cmd::run(["git", "checkout", "HEAD", "tracked.txt"], #{ cwd: "{R}" });"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "restore", "tracked.txt"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "switch", "-f", "main"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "switch", "--discard-changes", "main"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "read-tree", "-u", "--reset", "HEAD"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "checkout-index", "-a", "-f"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "rm", "-rf", "."]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "-c", "alias.x=!rm -rf {T}", "x"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "-c", "core.fsmonitor=rm -rf {T}", "status"]);"#),
    (
        "git",
        r#"cmd::run(["git", "-C", "{R}", "-c", "core.hooksPath={D}/hooks", "commit", "-am", "x"]);"#,
    ),
    ("git", r#"cmd::run(["git", "-C", "{R}", "-c", "core.sshCommand=rm -rf {T}", "fetch"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "config", "alias.x", "!rm -rf {T}"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "submodule", "foreach", "rm -rf {T}"]);"#),
    ("git", r#"cmd::run(["git", "clone", "ext::sh -c rm% -rf% {T}", "{D}/c"]);"#),
    ("git", r#"cmd::run(["git", "-C", "{R}", "fetch", "--upload-pack=rm -rf {T}", "origin"]);"#),
    // ssh: local-command options, remote commands, scripts on stdin
    ("ssh", r#"cmd::run(["ssh", "-o", "ProxyCommand=rm -rf {T}", "vm", "true"]);"#),
    ("ssh", r#"cmd::run(["ssh", "-oProxyCommand=sh -c 'rm -rf {T}'", "vm"]);"#),
    (
        "ssh",
        r#"cmd::run(["ssh", "-o", "LocalCommand=rm -rf {T}", "-o", "PermitLocalCommand=yes", "vm"]);"#,
    ),
    ("ssh", r#"cmd::run(["ssh", "-F", "{D}/sshcfg", "vm", "true"]);"#),
    (
        "ssh",
        r#"cmd::run(["ssh", "-p", "2222", "luke@127.0.0.1", "sh"], #{ stdin: "rm -rf ~/helix\n" });"#,
    ),
    ("ssh", r#"cmd::run(["ssh", "-p", "2222", "luke@127.0.0.1", "rm -rf ~/helix"]);"#),
    ("ssh", r#"ssh::run("luke@127.0.0.1:2222", "sh", #{ stdin: "rm -rf ~/helix\n" });"#),
    ("ssh", r#"ssh::run("luke@127.0.0.1:2222", "bash -s", #{ stdin: "cd ~ && rm -rf helix\n" });"#),
    ("ssh", r#"ssh::run("luke@127.0.0.1:2222", "sudo dd if=/dev/zero of=/dev/vda bs=1M");"#),
    ("ssh", r#"ssh::run("luke@127.0.0.1:2222", "D=~/helix; rm -rf \"$D\"");"#),
    ("ssh", r#"cmd::run(["scp", "-o", "ProxyCommand=rm -rf {T}", "{F}", "vm:/tmp/x"]);"#),
    ("ssh", r#"cmd::run(["rsync", "-e", "sh -c 'rm -rf {T}'", "{F}", "vm:/tmp/x"]);"#),
    // overwriting tools, moves and copies
    ("overwrite", r#"cmd::run(["install", "{D}/new.txt", "{F}"]);"#),
    ("overwrite", r#"cmd::run(["tar", "-xf", "{D}/a.tar", "-C", "{T}"]);"#),
    ("overwrite", r#"cmd::run(["tar", "xf", "{D}/a.tar"], #{ cwd: "{T}" });"#),
    ("overwrite", r#"cmd::run(["cp", "-rT", "{D}/other", "{T}"]);"#),
    ("overwrite", r#"cmd::run(["cp", "{D}/new.txt", "{F}"]);"#),
    ("overwrite", r#"cmd::run(["cp", "-f", "{D}/other/file.txt", "{T}"]);"#),
    ("overwrite", r#"cmd::run(["cp", "-a", "{D}/other/.", "{T}/"]);"#),
    ("overwrite", r#"cmd::run(["curl", "-fsS", "-o", "{F}", "file:///etc/hostname"]);"#),
    ("overwrite", r#"cmd::run(["wget", "-q", "-O", "{F}", "http://127.0.0.1:9/"]);"#),
    ("overwrite", r#"cmd::run(["sort", "-o", "{F}", "/etc/hostname"]);"#),
    ("overwrite", r#"cmd::run(["uniq", "/etc/hostname", "{F}"]);"#),
    ("overwrite", r#"cmd::run(["sed", "-i", "s/p/q/", "{F}"]);"#),
    ("overwrite", r#"cmd::run(["ln", "-sf", "/etc/hostname", "{F}"]);"#),
    ("overwrite", r#"cmd::run(["tee", "{F}"], #{ stdin: "x" });"#),
    ("overwrite", r#"cmd::run(["rsync", "-a", "--delete", "{D}/other/", "{T}/"]);"#),
    ("overwrite", r#"cmd::run(["tar", "--remove-files", "-cf", "{D}/x.tar", "{T}"]);"#),
    ("overwrite", r#"cmd::run(["patch", "{F}"], #{ stdin: "" });"#),
    ("move", r#"cmd::run(["mv", "{D}/new.txt", "{F}"]);"#),
    ("move", r#"cmd::run(["mv", "{F}", "/tmp/helix-elsewhere"]);"#),
    ("move", r#"cmd::run(["mv", "{T}", "{D}/moved"]);"#),
    ("move", r#"cmd::run(["mv", "{VM}", "{D}/vm-moved"]);"#),
    ("move", r#"cmd::run(["mv", "{B}", "{D}/b2"]);"#),
    ("move", r#"cmd::run(["mv", "{F}", "/dev/null"]);"#),
    ("move", r#"cmd::run(["mv", "-t", "{D}/other", "{F}"]);"#),
    ("move", r#"cmd::run(["sudo", "mv", "{Q}", "{D}/q2"]);"#),
    // laundering through the run's own files
    (
        "launder",
        r#"let d = "{D}/la"; fs::mkdir(d); cmd::run(["mv", "{VM}", d + "/x"]); cmd::run(["rm", "-rf", d]);"#,
    ),
    (
        "launder",
        r#"let d = "{D}/lb"; fs::mkdir(d); cmd::run(["mv", "{T}", d + "/x"]); cmd::run(["rm", "-rf", d]);"#,
    ),
    ("launder", r#"fs::symlink("{VM}", "{D}/lc"); cmd::run(["rm", "-rf", "{D}/lc/"]);"#),
    ("launder", r#"fs::symlink("{F}", "{D}/ld"); cmd::run(["truncate", "-s0", "{D}/ld"]);"#),
    ("launder", r#"fs::symlink("{T}", "{D}/le"); cmd::shell("rm -rf {D}/le/*");"#),
    ("launder", r#"cmd::run(["ln", "{F}", "{D}/lf"]); cmd::run(["truncate", "-s0", "{D}/lf"]);"#),
    ("launder", r#"cmd::run(["ln", "-s", "{VM}", "{D}/lg"]); cmd::run(["rm", "-rf", "{D}/lg/"]);"#),
    (
        "launder",
        r#"fs::mkdir("{D}/lh"); cmd::run(["cp", "-r", "{T}", "{D}/lh/t"]); cmd::run(["rm", "-rf", "{T}"]);"#,
    ),
];

/// What the recipes really run (locally), and what they need: each must pass unasked.
const ORDINARY: &[&str] = &[
    r#"cmd::run(["ls", "-la", "{T}"]);"#,
    r#"cmd::run(["uname", "-a"]);"#,
    r#"cmd::run(["df", "-h", "/"]);"#,
    r#"cmd::run(["cat", "/etc/hostname"]);"#,
    r#"cmd::run(["sha256sum", "{F}"]);"#,
    r#"cmd::run(["git", "--version"]);"#,
    r#"cmd::run(["git", "-C", "{R}", "status", "--porcelain"]);"#,
    r#"cmd::run(["git", "-C", "{R}", "log", "--oneline", "-1"]);"#,
    r#"cmd::run(["git", "-C", "{R}", "diff", "--stat"]);"#,
    r#"cmd::run(["git", "-C", "{R}", "stash", "list"]);"#,
    r#"cmd::run(["git", "-C", "{R}", "clean", "-n"]);"#,
    r#"cmd::run(["git", "-C", "{R}", "reset", "--soft", "HEAD"]);"#,
    r#"cmd::run(["git", "-C", "{R}", "restore", "--staged", "tracked.txt"]);"#,
    r#"cmd::output(["git", "-C", "{R}", "rev-parse", "HEAD"]);"#,
    r#"cmd::run(["git", "clone", "-q", "{R}", "{D}/clone"]); cmd::run(["git", "-C", "{D}/clone", "checkout", "-q", "-b", "feature"]);"#,
    r#"cmd::run(["qemu-img", "--version"]);"#,
    r#"cmd::run(["qemu-img", "info", "--output=json", "-U", "{Q}"]);"#,
    r#"cmd::run(["qemu-img", "snapshot", "-l", "{Q}"]);"#,
    r#"cmd::run(["qemu-img", "check", "{Q}"]);"#,
    r#"cmd::run(["qemu-img", "create", "-q", "-f", "qcow2", "{D}/n.qcow2", "1M"]); cmd::run(["qemu-img", "resize", "-q", "{D}/n.qcow2", "+1M"]);"#,
    r#"qemu_img::create("{D}/m.qcow2", "1M"); cmd::run(["qemu-img", "info", "{D}/m.qcow2"]);"#,
    r#"cmd::run(["python3", "--version"]);"#,
    r#"cmd::run(["python3", "-m", "pip", "--version"]);"#,
    r#"cmd::run(["python3", "-m", "json.tool"], #{ stdin: "{}" });"#,
    r#"cmd::run(["perl", "-v"]);"#,
    r#"cmd::run(["meson", "--version"]);"#,
    r#"cmd::run(["ninja", "--version"]);"#,
    r#"cmd::run(["ninja", "-C", "{D}/build"]);"#,
    r#"cmd::run(["ninja", "-C", "{D}/build"], #{ env: #{ PATH: "{D}/sysroot/bin:/usr/bin:/bin", NINJA_STATUS: "[%f/%t] " } });"#,
    r#"cmd::run(["make", "-C", "{D}/build"]);"#,
    r#"cmd::run(["make"], #{ cwd: "{D}/build" });"#,
    r#"cmd::run(["./configure", "--prefix={D}/prefix"], #{ cwd: "{D}/src", env: #{ PKG_CONFIG_PATH: "{D}/sysroot/lib/pkgconfig" } });"#,
    r#"cmd::run(["cmake", "--version"]);"#,
    r#"cmd::run(["curl", "--version"]);"#,
    r#"cmd::run(["curl", "-fsS", "-o", "{D}/dl.txt", "file:///etc/hostname"]);"#,
    r#"cmd::run(["dd", "if=/dev/zero", "of={D}/zero.img", "bs=1k", "count=4", "status=none"]);"#,
    r#"cmd::run(["truncate", "-s", "1M", "{D}/sparse.img"]);"#,
    r#"cmd::run(["mkdir", "-p", "{D}/newdir/a"]);"#,
    r#"cmd::run(["cp", "/etc/hostname", "{D}/copy.txt"]);"#,
    r#"cmd::run(["ln", "-s", "/etc/hostname", "{D}/newlink"]);"#,
    r#"cmd::run(["tar", "-czf", "{D}/t.tgz", "-C", "{T}", "."]);"#,
    r#"fs::mkdir("{D}/into"); cmd::run(["tar", "-xf", "{D}/a.tar", "-C", "{D}/into"]);"#,
    r#"fs::write("{D}/made.txt", "x"); cmd::run(["mv", "{D}/made.txt", "{D}/moved.txt"]);"#,
    r#"fs::mkdir("{D}/own"); fs::write("{D}/own/a", "x"); cmd::run(["rm", "-rf", "{D}/own"]);"#,
    r#"cmd::run(["env", "FOO=1", "true"]);"#,
    r#"cmd::run(["sudo", "-n", "true"]);"#,
    r#"cmd::run(["nice", "-n", "5", "true"]);"#,
    r#"cmd::run(["timeout", "5", "true"]);"#,
    r#"cmd::run(["xargs", "echo"], #{ stdin: "a b" });"#,
    r#"cmd::run(["find", "{T}", "-name", "*.txt"]);"#,
    r#"cmd::run(["sh", "-c", "echo hi && true"]);"#,
    r#"cmd::run(["ssh", "-V"]);"#,
    r#"cmd::shell("echo hi | grep h");"#,
    r#"cmd::shell("cd {D} && ls");"#,
    r#"cmd::shell("for f in {T}/*; do echo $f; done");"#,
    r#"cmd::shell("X=$(git -C {R} rev-parse HEAD); echo $X");"#,
    r#"cmd::shell("echo x > {D}/new-file.txt");"#,
    r#"cmd::shell("echo x >> {F}");"#,
    r#"cmd::shell("ls 2>&1 | tee {D}/log.txt");"#,
    r#"cmd::shell("cat /etc/hostname | sort | uniq");"#,
    r#"cmd::shell("command -v rm");"#,
    r#"cmd::shell("[ -d {T} ] && echo yes");"#,
    r#"cmd::shell("mkdir -p {D}/w && cd {D}/w && touch a && rm a");"#,
    r#"cmd::shell("mkdir {D}/tree && touch {D}/tree/a && rm -rf {D}/tree");"#,
    r#"cmd::shell("t=$(mktemp); echo x > \"$t\"; rm -f \"$t\"");"#,
    r#"cmd::shell("test -f {D}/swapfile || (fallocate -l 1M {D}/swapfile && chmod 600 {D}/swapfile && mkswap {D}/swapfile)");"#,
    r#"cmd::shell("ln -s {VM} {D}/vmlink && rm {D}/vmlink");"#,
    r#"cmd::shell("awk '{print $1}' /etc/hostname");"#,
    r#"cmd::shell("sed -n 1p /etc/hostname");"#,
    r#"cmd::shell("printf '%s\n' a b | xargs -n1 echo");"#,
];

struct World {
    t: Test,
    root: PathBuf,
    fixtures: Vec<PathBuf>,
}

/// One fixture: real targets and the scratch files the forms use.
fn make_fixture(d: &Path) {
    std::fs::create_dir_all(d).unwrap();
    let script = r#"
set -e
mkdir -p target/sub target/empty vms/vm data.backup repo other mk hooks evilbin build src sysroot/bin
printf precious > target/file.txt
printf deep > target/sub/deep.txt
printf backup-bytes > data.backup/disk.img
qemu-img create -q -f qcow2 vms/vm/disk.qcow2 1M
qemu-io -c 'write -P 0xab 0 64k' vms/vm/disk.qcow2 >/dev/null
printf '<plist/>' > vms/vm/config.plist
qemu-img create -q -f qcow2 other.qcow2 1M
cd repo
git init -q -b main
git config user.email t@example.com
git config user.name t
printf v1 > tracked.txt
git add tracked.txt
git commit -qm one
printf 'dirty work' > tracked.txt
printf untracked > untracked.txt
cd ..
printf other > other/file.txt
printf new > new.txt
tar -cf a.tar -C other file.txt
printf 'all:\n\trm -rf ../target\n' > mk/Makefile
printf 'rule t\n  command = true\nbuild x: phony\ndefault x\n' > build/build.ninja
printf 'all:\n\ttrue\n' > build/Makefile
printf '' > build/config.status
printf '#!/bin/sh\ntrue\n' > src/configure
chmod +x src/configure
printf 'ProxyCommand sh -c true\n' > sshcfg
printf '#!/bin/sh\nrm -rf "$HOME"\n' > evilbin/ls
chmod +x evilbin/ls
"#;
    crate::support::cmd::sh(script, d);
    let t = d.join("target").display().to_string();
    std::fs::write(d.join("evil.sh"), format!("rm -rf {t}\n")).unwrap();
    std::fs::write(d.join("evil.py"), format!("import shutil\nshutil.rmtree('{t}')\n")).unwrap();
    std::fs::write(d.join("evil.cmake"), format!("file(REMOVE_RECURSE {t})\n")).unwrap();
    std::fs::write(d.join("list"), format!("{t}\n")).unwrap();
}

impl World {
    fn new(workers: usize) -> World {
        let t = Test::new();
        let root = t.path("");
        for d in ["recipes", "config", "state", "home/.ssh"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("home/.ssh/id_ed25519"), "not a key").unwrap();
        std::fs::write(root.join("home/.ssh/id_ed25519.pub"), "ssh-ed25519 AAAA x").unwrap();
        let fixtures: Vec<PathBuf> = (0..workers).map(|i| root.join(format!("f{i}"))).collect();
        for f in &fixtures {
            make_fixture(f);
        }
        let protected: Vec<String> =
            fixtures.iter().map(|f| format!("\"{}\"", f.join("vms/vm").display())).collect();
        std::fs::write(
            root.join("config/config.toml"),
            format!("[guard]\nprotected = [{}]\n", protected.join(", ")),
        )
        .unwrap();
        let t = t.env("HELIX_RECIPES", &root.join("recipes").display().to_string());
        World { t, root, fixtures }
    }

    fn body(&self, form: &str, fixture: &Path) -> String {
        let d = fixture.display().to_string();
        form.replace("{VMS}", &format!("{d}/vms"))
            .replace("{VM}", &format!("{d}/vms/vm"))
            .replace("{Q}", &format!("{d}/vms/vm/disk.qcow2"))
            .replace("{T}", &format!("{d}/target"))
            .replace("{F}", &format!("{d}/target/file.txt"))
            .replace("{B}", &format!("{d}/data.backup"))
            .replace("{R}", &format!("{d}/repo"))
            .replace("{D}", &d)
    }

    /// Run one recipe with no controlling terminal; stdin from /dev/null, or from `yes`.
    fn run(&self, name: &str, fixture: &Path, yes: bool) -> (i32, String, String) {
        let mut cmd = self.t.command(["run", name]);
        cmd.current_dir(fixture);
        let mut yes_child = None;
        if yes {
            let mut y = Command::new("yes").stdout(Stdio::piped()).spawn().unwrap();
            cmd.stdin(Stdio::from(y.stdout.take().unwrap()));
            yes_child = Some(y);
        } else {
            cmd.stdin(Stdio::null());
        }
        let mut child = cmd.spawn().unwrap();
        let mut out = String::new();
        let mut err = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let code = child.wait().unwrap().code().unwrap_or(-1);
        if let Some(mut y) = yes_child {
            let _ = y.kill();
            let _ = y.wait();
        }
        (code, out, err)
    }
}

impl World {
    /// The `error:` line of a run's stderr (else its last line), the same for every worker,
    /// run and machine: the fixture is `<fixture>`, run ids `<run>`, an SSH master's socket
    /// (a fresh temp dir per run) `<socket>`, and the sizes of what would be destroyed `<size>`
    /// (a git repo's and a qcow2's depend on the tools' versions).
    fn headline(&self, err: &str, fixture: &Path) -> String {
        let line = err.lines().find(|l| l.starts_with("error:")).or(err.lines().last());
        let line = line.unwrap_or_default().replace(&fixture.display().to_string(), "<fixture>");
        let line = match line.split_once("ControlPath=") {
            Some((head, tail)) => {
                format!(
                    "{head}ControlPath=<socket>{}",
                    &tail[tail.find(' ').unwrap_or(tail.len())..]
                )
            }
            None => line,
        };
        sizes(&crate::support::redact::redact(&line, self.t.dir.path()))
    }
}

/// `text` with the size after `— directory, ` or `— file, ` (up to `:`, `;`, ` —`, ` (` or the
/// sentence's `. `) replaced by `<size>`.
fn sizes(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some((at, marker)) =
        ["— directory, ", "— file, "].iter().filter_map(|m| rest.find(m).map(|i| (i, *m))).min()
    {
        let after = &rest[at + marker.len()..];
        let end = [":", ";", " —", " (", ". "]
            .iter()
            .filter_map(|e| after.find(e))
            .min()
            .unwrap_or(after.len());
        out.push_str(&rest[..at + marker.len()]);
        out.push_str("<size>");
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// A digest of every target: paths, types, link targets, modes and contents.
fn tree_hash(fixture: &Path) -> BTreeMap<String, String> {
    let watched = ["target", "vms", "data.backup", "repo"].map(|t| fixture.join(t));
    crate::support::tree::snapshot(fixture, &|p| !watched.iter().any(|w| p.starts_with(w)))
}

fn entries(d: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(d).unwrap().flatten().map(|e| e.path()).collect()
}

fn refused(err: &str) -> bool {
    err.contains("refused to ") || err.contains("is protected by")
}

#[test]
fn destructive_forms_are_refused_and_every_target_stays_byte_identical() {
    crate::in_overlay!(destructive_forms_are_refused_and_every_target_stays_byte_identical);
    assert!(DESTRUCTIVE.len() >= 150, "{} forms", DESTRUCTIVE.len());
    let started = Instant::now();
    let workers = 4;
    let world = World::new(workers);
    let failures = Mutex::new(vec![]);
    // Each form's refusal as a person reads it (its `error:` line), by form.
    let said = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for (w, fixture) in world.fixtures.iter().enumerate() {
            let world = &world;
            let failures = &failures;
            let said = &said;
            s.spawn(move || {
                let mut before = tree_hash(fixture);
                let scratch: Vec<PathBuf> = entries(fixture);
                for (i, (category, form)) in
                    DESTRUCTIVE.iter().enumerate().filter(|(i, _)| i % workers == w)
                {
                    // One recipe per form and fixture (the body names this worker's paths).
                    let name = format!("d{i}w{w}");
                    std::fs::write(
                        world.root.join(format!("recipes/{name}.rhai")),
                        format!(
                            "//! Destructive form {i}.\n{}\nprint(\"AFTER-THE-FORM\");\n",
                            world.body(form, fixture)
                        ),
                    )
                    .unwrap();
                    for yes in [false, true] {
                        let (code, out, err) = world.run(&name, fixture, yes);
                        let after = tree_hash(fixture);
                        // What the form left beside the targets (links, scratch dirs) goes, so
                        // the next run starts from the same fixture.
                        for e in entries(fixture) {
                            if !scratch.contains(&e) {
                                let _ = std::fs::remove_dir_all(&e)
                                    .or_else(|_| std::fs::remove_file(&e));
                            }
                        }
                        let mode = if yes { "yes piped in" } else { "stdin /dev/null" };
                        let mut why = vec![];
                        if code == 0 || out.contains("AFTER-THE-FORM") {
                            why.push("it ran to the end".to_string());
                        }
                        if !refused(&err) {
                            why.push("helix did not refuse it".to_string());
                        }
                        let headline = world.headline(&err, fixture);
                        if !yes {
                            said.lock().unwrap().insert(i, (category, form, headline));
                        } else if said.lock().unwrap().get(&i).map(|s| &s.2) != Some(&headline) {
                            why.push(format!("with yes piped in it says otherwise: {headline}"));
                        }
                        if after != before {
                            let changed: Vec<&String> = before
                                .iter()
                                .filter(|(k, v)| after.get(*k) != Some(*v))
                                .map(|(k, _)| k)
                                .chain(after.keys().filter(|k| !before.contains_key(*k)))
                                .collect();
                            why.push(format!("targets changed: {changed:?}"));
                        }
                        if !why.is_empty() {
                            failures.lock().unwrap().push(format!(
                                "[{category}] {form} ({mode}): {}\n  stderr: {}",
                                why.join("; "),
                                err.trim().lines().last().unwrap_or("")
                            ));
                            if after != before {
                                // Put the fixture back so the next forms are judged alone.
                                let _ = std::fs::remove_dir_all(fixture);
                                make_fixture(fixture);
                                before = tree_hash(fixture);
                            }
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "adversarial suite: {} destructive forms x 2 modes in {:.1}s",
        DESTRUCTIVE.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    let said: String = said
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|(i, (category, form, headline))| {
            format!("{i:03} [{category}] {form}\n  {headline}\n")
        })
        .collect();
    // Inside the overlay a new snapshot is written to the throwaway layer: make one with
    // `INSTA_WORKSPACE_ROOT=/dev/shm/x INSTA_UPDATE=always` and copy it from there.
    insta::assert_snapshot!("refusals", said);
}

#[test]
fn ordinary_forms_the_recipes_run_pass_unasked() {
    crate::in_overlay!(ordinary_forms_the_recipes_run_pass_unasked);
    assert!(ORDINARY.len() >= 50, "{} forms", ORDINARY.len());
    let world = World::new(1);
    let fixture = &world.fixtures[0];
    let mut failures = vec![];
    for (i, form) in ORDINARY.iter().enumerate() {
        let name = format!("o{i}");
        std::fs::write(
            world.root.join(format!("recipes/{name}.rhai")),
            format!(
                "//! Ordinary form {i}.\n{}\nprint(\"AFTER-THE-FORM\");\n",
                world.body(form, fixture)
            ),
        )
        .unwrap();
        let (code, out, err) = world.run(&name, fixture, false);
        if code != 0 || !out.contains("AFTER-THE-FORM") {
            failures.push(format!("{form}: exit {code}\n  {}", err.trim().replace('\n', "\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} ordinary forms failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
