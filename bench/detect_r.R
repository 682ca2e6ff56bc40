# bench/detect_r.R - the same detector work done by R's surveillance
#
# Called by bench_detect with: INPUT.csv (series,t,count) FREQ FROM TO CALL
# OUTPUT.csv. CALL is an R expression over an sts `s` whose control list
# holds `range = RANGE`; it is evaluated on every series of the input with
# RANGE = FROM:TO. Prints "seconds=<detector time>" (elapsed) and
# "cpu=<its CPU time>" (user + system) and writes each
# evaluated point's upperbound and alarm to OUTPUT.csv, so the benchmark
# can check that C and R agree on the very data it timed.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 6) {
    stop("usage: detect_r.R INPUT FREQ FROM TO CALL OUTPUT")
}
suppressMessages(library(surveillance))
d <- read.csv(args[1])
freq <- as.integer(args[2])
RANGE <- as.integer(args[3]):as.integer(args[4])
call <- parse(text = args[5])[[1]]
names <- unique(d$series)
series <- lapply(names, function(n) {
    sts(observed = d$count[d$series == n], start = c(2000, 1),
        frequency = freq)
})
res <- vector("list", length(series))
tm <- system.time({
    for (i in seq_along(series)) {
        s <- series[[i]]
        res[[i]] <- suppressWarnings(eval(call))
    }
})
secs <- tm[["elapsed"]]
cpu <- tm[["user.self"]] + tm[["sys.self"]]
out <- do.call(rbind, lapply(seq_along(res), function(i) {
    r <- res[[i]]
    data.frame(series = names[i], t = RANGE,
               upperbound = as.numeric(upperbound(r)),
               alarm = as.integer(alarms(r)))
}))
write.csv(out, args[6], row.names = FALSE, na = "NA")
cat(sprintf("seconds=%.6f\n", secs))
cat(sprintf("cpu=%.6f\n", cpu))
