"""results.json as a Markdown report and a plot."""
from pathlib import Path

RUNTIMES = ("pyoci", "runc", "crun")


def _cell(s):
    if not s:
        return "-"
    return "%.1f (%.1f-%.1f)" % (s["median"], s["p10"], s["p90"])


def _ratio(table, name):
    value = (table.get("ratio_to_runc") or {}).get(name)
    return "%.2f" % value if value is not None else "-"


def _timing_table(rows, names):
    lines = ["| | " + " | ".join("%s ms" % n for n in names) + " | "
             + " | ".join("%s/runc" % n for n in names if n != "runc") + " |",
             "|---" * (1 + len(names) + len([n for n in names if n != "runc"])) + "|"]
    for label, table in rows:
        lines.append("| %s | " % label
                     + " | ".join(_cell(table.get(n)) for n in names) + " | "
                     + " | ".join(_ratio(table, n) for n in names if n != "runc")
                     + " |")
    return lines


def markdown(results):
    m = results.get("machine", {})
    out = ["# pyoci benchmarks", "",
           "Regenerate with `sudo .venv/bin/python -m benchmarks` (see "
           "`benchmarks/__main__.py`). Times are wall-clock milliseconds: "
           "median (p10-p90); the runtimes run interleaved on the same "
           "bundles (runc's default config, busybox rootfs) with state roots "
           "on tmpfs.", "",
           "Machine: %s, %s, %s CPUs (%s), %s GiB, cgroups %s, Python %s; %s."
           % (m.get("os"), "Linux " + m.get("kernel", "?"), m.get("cpus"),
              m.get("cpu"), m.get("memory_gib"), m.get("cgroups"),
              m.get("python"), m.get("date")),
           "Load average before %s, after %s; other processes running at the "
           "start: %s." % (m.get("load_before"), m.get("load_after"),
                          ", ".join(m.get("busy_before") or []) or "none"),
           "Versions: %s." % "; ".join("%s: %s" % kv for kv in
                                      sorted((m.get("versions") or {}).items())),
           ""]
    run = results.get("run")
    if run and "error" not in run:
        names = [n for n in RUNTIMES if n in run]
        out += ["## 1. `run` of /bin/true", ""]
        out += _timing_table([("run", run)], names)
        crun = run.get("crun") or {}
        out += ["", "Floor (a C program doing only fork, unshare, the same "
                "mounts, pivot_root, exec: `benchmarks/floor.c`): %s ms; with "
                "a directory in every cgroup hierarchy joined: %s ms. crun runs "
                "through a mount-namespace wrapper (`crun_hybrid.c`, %s ms, "
                "subtracted above: crun refuses this hybrid cgroup layout)."
                % (_cell(run.get("floor")), _cell(run.get("floor+cgroups")),
                   crun.get("wrapper_subtracted_ms", "-")), ""]
    life = results.get("lifecycle")
    if life and "error" not in life:
        names = [n for n in RUNTIMES if n in life.get("create", {})]
        out += ["## 2. Each command on its own", ""]
        out += _timing_table([(c, life[c]) for c in
                              ("create", "start", "state", "kill", "delete")], names)
        out += [""]
    docker = results.get("docker")
    if docker:
        out += ["## 3. `docker run --rm` through a private dockerd", ""]
        if "error" in docker or "skipped" in docker:
            out += ["Not measured: %s" % (docker.get("error") or docker["skipped"]), ""]
        else:
            names = [n for n in RUNTIMES if n in docker]
            out += _timing_table([("docker run --rm busybox true", docker)], names)
            out += ["", docker.get("note", ""), ""]
    mem = results.get("memory")
    if mem and "error" not in mem:
        peaks = mem["peak_rss_kib"]
        names = [n for n in ("pyoci", "runc") if n in peaks]
        commands = list(next(iter(peaks.values())).keys())
        out += ["## 4. Memory", "",
                "Peak RSS (MiB, `/usr/bin/time -v`) of each command:", "",
                "| command | " + " | ".join(names) + " |",
                "|---" * (1 + len(names)) + "|"]
        for command in commands:
            out.append("| %s | " % command + " | ".join(
                "%.1f" % (peaks[n][command] / 1024) for n in names) + " |")
        out += ["", "After `create` returns:", "",
                "| | " + " | ".join(names) + " |", "|---" * (1 + len(names)) + "|"]
        after = mem["after_create"]
        for key, label in (("runtime_processes_left", "runtime processes left "
                                                      "(besides the container's)"),
                           ("init_waiting_rss_kib", "container process waiting "
                                                    "for start, RSS MiB"),
                           ("init_started_rss_kib", "same after start (the "
                                                    "program), RSS MiB")):
            out.append("| %s | " % label + " | ".join(
                str(after[n][key]) if key == "runtime_processes_left"
                else "%.1f" % (after[n][key] / 1024) for n in names) + " |")
        out += [""]
    dense = results.get("density")
    if dense and "error" not in dense:
        names = [n for n in ("pyoci", "runc") if n in dense]
        out += ["## 5. Density: %d idle containers (`run -d` of sleep)"
                % dense["containers"], "",
                "| | " + " | ".join(names) + " |", "|---" * (1 + len(names)) + "|"]
        for key, label in (("create_total_s", "create all, s"),
                           ("create_each_ms", "each, ms"),
                           ("host_memory_per_container_kib",
                            "host memory per container, KiB"),
                           ("list", "`list` with all present, ms"),
                           ("state", "`state` with all present, ms"),
                           ("delete_total_s", "delete --force all, s"),
                           ("failures", "failed commands"),
                           ("listed", "containers listed"),
                           ("left_behind", "left after delete")):
            cells = []
            for n in names:
                value = dense[n][key]
                cells.append(_cell(value) if key in ("list", "state") else
                             ", ".join("%s %s" % kv for kv in value.items())
                             if isinstance(value, dict) else str(value))
            out.append("| %s | " % label + " | ".join(cells) + " |")
        out += ["", "`list` pyoci/runc: %s" % dense.get("list_ratio_to_runc", {})
                .get("pyoci", "-"), ""]
    scale = results.get("scaling")
    if scale and "error" not in scale:
        names = [n for n in RUNTIMES
                 if n in next(iter(scale["mounts"].values()), {})]
        out += ["## 6. Scaling of `create`", "", "Mounts (bind mounts):", ""]
        out += _timing_table([("%s mounts" % k, v) for k, v in
                              sorted(scale["mounts"].items(), key=lambda kv: int(kv[0]))],
                             names)
        out += ["", "ms per added mount between successive sizes: %s"
                % "; ".join("%s %s" % kv for kv in scale["mount_growth"].items()),
                "", "Size of config.json (annotations):", ""]
        out += _timing_table([("%d KiB" % (v["config_json_bytes"] // 1024), v)
                              for k, v in sorted(scale["config_bytes"].items(),
                                                 key=lambda kv: int(kv[0]))], names)
        out += [""]
        for key in ("mounts", "config_bytes"):
            for size, entry in sorted(scale[key].items(), key=lambda kv: int(kv[0])):
                for name, why in (entry.get("failed") or {}).items():
                    out += ["%s failed at %s %s: `%s`" % (name, size, key, why), ""]
    for name in ("run", "lifecycle", "memory", "density", "scaling"):
        if (results.get(name) or {}).get("error"):
            out += ["**%s failed**: `%s`" % (name, results[name]["error"]), ""]
    return "\n".join(out) + "\n"


def plot(results, path):
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colours = {"pyoci": "#3572A5", "runc": "#00ADD8", "crun": "#A8B9CC",
               "floor": "#777777", "floor+cgroups": "#AAAAAA"}
    figure, axes = plt.subplots(2, 2, figsize=(12, 8))

    def bars(ax, groups, title):
        names = [n for n in colours if any(n in g for _, g in groups)]
        width = 0.8 / max(1, len(names))
        for i, name in enumerate(names):
            xs, ys, lo, hi = [], [], [], []
            for x, (_, table) in enumerate(groups):
                s = table.get(name)
                if s:
                    xs.append(x + i * width)
                    ys.append(s["median"])
                    lo.append(s["median"] - s["p10"])
                    hi.append(s["p90"] - s["median"])
            ax.bar(xs, ys, width, yerr=[lo, hi], label=name, color=colours[name],
                   capsize=2)
        ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(groups))])
        ax.set_xticklabels([label for label, _ in groups])
        ax.set_ylabel("ms (median, p10-p90)")
        ax.set_title(title)
        ax.legend(fontsize=8)

    run = results.get("run") or {}
    if "error" not in run and run:
        bars(axes[0][0], [("run /bin/true", run)], "run of /bin/true")
    life = results.get("lifecycle") or {}
    if "error" not in life and life:
        bars(axes[0][1], [(c, life[c]) for c in ("create", "start", "state",
                                                 "kill", "delete")],
             "each command")
    scale = results.get("scaling") or {}
    for ax, key, label in ((axes[1][0], "mounts", "mounts in config.json"),
                           (axes[1][1], "config_bytes", "config.json KiB")):
        table = scale.get(key) or {}
        if not table or "error" in scale:
            continue
        sizes = sorted(table, key=int)
        for name in RUNTIMES:
            points = [(int(s) if key == "mounts" else table[s]["config_json_bytes"] / 1024,
                       table[s][name]["median"]) for s in sizes if table[s].get(name)]
            if points:
                ax.plot(*zip(*points), marker="o", label=name, color=colours[name])
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("create, ms (median)")
        ax.set_title("create against " + label)
        ax.legend(fontsize=8)
    machine = results.get("machine", {})
    figure.suptitle("pyoci, runc, crun on %s (%s CPUs), %s" % (
        machine.get("kernel", "?"), machine.get("cpus", "?"), machine.get("date", "")))
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return True


def write(results, out):
    out = Path(out)
    (out / "results.md").write_text(markdown(results))
    plot(results, out / "results.png")
