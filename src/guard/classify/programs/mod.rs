//! Rules for the programs that delete, overwrite, format or move data: `rm`, `dd`, `mkfs`,
//! `truncate`, `shred`, `find -delete`, `mv`/`cp`/`install` onto (or `mv` away from) an existing
//! path, `tar -x` into a non-empty directory, `curl -o`/`wget -O`/`sort -o` onto a file,
//! `qemu-img`, `qemu-io -c write`, `debugfs -w`, disk and pool tools, `rsync --delete`,
//! `killall`, … A program with no rule here is ordinary.

mod disks;
mod files;
mod images;
mod writers;

use super::finding::{Finding, Severity};
use super::shell::is_harmless_device;
use super::state::Scope;
use super::words::Arg;

pub(crate) use files::sources_and_dest;

fn exists(scope: &Scope, p: &str) -> bool {
    scope.exists(p) == Some(true)
}

fn is_dir(scope: &Scope, p: &str) -> bool {
    scope.is_dir(p) == Some(true)
}

/// The rule for `prog` (its basename), or `None` when it has none or the command is ordinary.
pub(super) fn classify(prog: &str, rest: &[Arg], scope: &Scope) -> Option<Finding> {
    match prog {
        // Deleting, cutting and replacing files.
        "rm" | "grm" => files::rm(rest, scope),
        "srm" => files::srm(rest),
        "rmdir" => files::rmdir(rest),
        "unlink" => files::unlink(rest),
        "shred" => files::shred(rest),
        "truncate" => files::truncate(rest, scope),
        "find" | "gfind" => files::find(rest, scope),
        "mv" | "gmv" => files::mv_cp(prog, rest, scope),
        "cp" | "gcp" | "install" | "ginstall" => files::mv_cp(prog, rest, scope),
        "ln" | "gln" => files::ln(rest, scope),
        "tee" => files::tee(rest, scope),
        "wipe" => files::wipe(rest),
        // Disks, filesystems, pools.
        "wipefs" => disks::wipefs(rest),
        p if p.starts_with("mkfs")
            || p.starts_with("newfs")
            || p == "mke2fs"
            || p == "mkswap"
            || p == "mkdosfs" =>
        {
            disks::mkfs(p, rest)
        }
        "dd" | "gdd" => disks::dd(rest, scope),
        "blkdiscard" => disks::blkdiscard(rest),
        "fdisk" | "sfdisk" | "gdisk" | "sgdisk" | "parted" | "cfdisk" => {
            disks::partition_table(prog, rest)
        }
        "fallocate" => disks::fallocate(rest),
        "zpool" => disks::zpool(rest),
        "zfs" => disks::zfs(rest),
        "diskutil" => disks::diskutil(rest),
        "debugfs" => disks::debugfs(rest),
        // VM disk images, VMs, containers.
        "qemu-img" => images::qemu_img(rest, scope),
        "docker" | "podman" | "nerdctl" => images::docker(rest),
        "qemu-io" => images::qemu_io(rest),
        "killall" | "pkill" => images::killall(prog, rest),
        "utmctl" => images::utmctl(rest),
        // Tools that write an output file or tree.
        "tar" | "gtar" | "bsdtar" => writers::tar(rest, scope),
        "rsync" => writers::rsync(rest),
        "curl" => writers::curl(rest, scope),
        "wget" => writers::wget(rest, scope),
        "sort" | "gsort" => writers::sort(rest, scope),
        "uniq" => writers::uniq(rest, scope),
        "sed" | "gsed" => writers::sed(rest),
        "unzip" => writers::unzip(rest),
        "patch" | "gpatch" => writers::patch(rest),
        _ => None,
    }
}

/// A rule that fires on those of `files` that exist now (or may: only known at run time).
fn onto_existing(why: &str, files: &[Arg], scope: &Scope) -> Option<Finding> {
    let over: Vec<Arg> = files
        .iter()
        .filter(|f| f.dynamic || (exists(scope, &f.text) && !is_harmless_device(&f.text)))
        .cloned()
        .collect();
    (!over.is_empty()).then(|| Finding::new(why, Severity::YesNo).with_targets(&over))
}
