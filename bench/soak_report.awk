# bench/soak_report.awk - the table and the verdicts of bench/soak.sh
#
# Reads soak.csv (t_s,daemon,pid,vmrss_kib,fds,spool_records,spool_bytes)
# and prints, per daemon, the samples over time (about a dozen rows) and
# whether it stayed flat over the second half of the run: the least-squares
# trend of VmRSS, descriptors and spool depth, times the length of that
# half, within the bounds printed with each verdict (see bench/soak.sh).
# Variables: half and dur (seconds), tickn (records fed per tick), alive
# and all (daemons running at the end, daemons started). Exit 1 when a
# daemon is not flat or died. "backlog" is a pseudo-daemon: records fed
# and not yet taken in by the analyzer (no memory or descriptors).

# Least-squares slope of y over x for the n points in x[1..n], y[1..n].
function slope(n, x, y,    i, sx, sy, sxx, sxy, den) {
    for (i = 1; i <= n; i++) {
        sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; sxy += x[i] * y[i]
    }
    den = n * sxx - sx * sx
    return (n < 2 || den == 0) ? 0 : (n * sxy - sx * sy) / den
}

# The trend of column `col` ("R", "F" or "S") of daemon d over the second
# half, times its length.
function growth(d, col,    k, n, x, y) {
    n = 0
    for (k = 1; k <= cnt[d]; k++) {
        if (T[d, k] >= half && V[col, d, k] != "NA") {
            n++; x[n] = T[d, k]; y[n] = V[col, d, k]
        }
    }
    return slope(n, x, y) * (dur - half)
}

function at_half(d, col,    k) {
    for (k = 1; k <= cnt[d]; k++) {
        if (T[d, k] >= half) { return V[col, d, k] }
    }
    return V[col, d, cnt[d]]
}

# The spool depth the verdict reads: bytes for a collector and the
# analyzer, records for alerting (deliveries) and the backlog.
function spool_of(d) {
    return (d ~ /^s[0-9]/ || d == "analyzer") ? $7 : $6
}

function spool_bound(d) {
    if (d == "alerting") { return 10 }
    return d == "backlog" ? tickn : 2097152
}

function mib(kib) {
    return kib == "NA" || kib == "" ? "NA" : sprintf("%.1f M", kib / 1024)
}

NR == 1 { next }
{
    d = $2
    if (!(d in cnt)) { order[++nd] = d }
    k = ++cnt[d]
    T[d, k] = $1; V["R", d, k] = $4; V["F", d, k] = $5
    V["S", d, k] = spool_of(d)
    if ($4 != "NA" && $4 > maxr[d]) { maxr[d] = $4 }
    if ($5 > maxf[d]) { maxf[d] = $5 }
    if (V["S", d, k] != "NA" && V["S", d, k] > maxs[d]) {
        maxs[d] = V["S", d, k]
    }
}
END {
    unit["alerting"] = "deliveries"; unit["backlog"] = "records"
    print ""
    print "Samples over time (VmRSS in MiB; spool: bytes of a collector's" \
        " spool and of the analyzer's alert outbox, alerting's deliveries" \
        " waiting, the pipeline's backlog in records)"
    for (i = 1; i <= nd; i++) {
        d = order[i]
        printf "\n%s\n%8s %10s %6s %12s\n", d, "t_s", "rss_MiB", "fds",
            "spool"
        step = int(cnt[d] / 12); if (step < 1) { step = 1 }
        for (k = 1; k <= cnt[d]; k++) {
            if ((k - 1) % step == 0 || k == cnt[d]) {
                printf "%8d %10s %6s %12s\n", T[d, k], mib(V["R", d, k]),
                    V["F", d, k], V["S", d, k]
            }
        }
    }
    print ""
    printf "%-9s %9s %9s %9s %9s %5s %5s %5s %10s %10s %10s  %s\n", "daemon",
        "rss_start", "rss_half", "rss_end", "rss_max", "fd_st", "fd_end",
        "fd_max", "spool_st", "spool_end", "spool_max", "unit"
    for (i = 1; i <= nd; i++) {
        d = order[i]; n = cnt[d]
        printf "%-9s %9s %9s %9s %9s %5s %5s %5s %10s %10s %10s  %s\n", d,
            mib(V["R", d, 1]), mib(at_half(d, "R")), mib(V["R", d, n]),
            mib(maxr[d]), V["F", d, 1], V["F", d, n], maxf[d], V["S", d, 1],
            V["S", d, n], maxs[d] + 0, d in unit ? unit[d] : "bytes"
    }
    print ""
    printf "Flat: over the second half (t >= %d s), the least-squares trend" \
        " times %d s is within the bound for VmRSS (10 %% of its half-time" \
        " value, at least 4 MiB), descriptors (4) and spool depth (2 MiB of" \
        " a spool; 10 deliveries; the backlog one tick's %d records), and" \
        " the last spool sample is within twice its bound.\n",
        half, dur - half, tickn
    bad = alive < all
    for (i = 1; i <= nd; i++) {
        d = order[i]; n = cnt[d]
        gr = growth(d, "R"); rh = at_half(d, "R")
        br = rh * 0.10; if (br < 4096) { br = 4096 }
        gf = growth(d, "F")
        gs = growth(d, "S")
        bs = spool_bound(d)
        se = V["S", d, n]
        flat = gr <= br && gf <= 4 && gs <= bs && (se == "NA" || se <= 2 * bs)
        bad += !flat
        if (d == "backlog") {
            printf "%-9s %s  backlog %+.0f (<= %d), end %s (<= %d)\n", d,
                flat ? "flat" : "NOT FLAT", gs, bs, se, 2 * bs
            continue
        }
        printf "%-9s %s  rss %+.1f MiB (<= %.1f), fds %+.1f (<= 4), " \
            "spool %+.0f (<= %d), spool end %s (<= %d)\n", d,
            flat ? "flat" : "NOT FLAT", gr / 1024, br / 1024, gf, gs, bs,
            se, 2 * bs
    }
    if (alive < all) {
        printf "%d of %d daemons died during the run\n", all - alive, all
    }
    exit bad > 0
}
