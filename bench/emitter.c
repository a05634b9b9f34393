/*
 * A fast stand-in for the CLI, for benchmarks: prints JSON lines as fast as the pipe takes them
 * (or at a fixed rate), so whatever is measured is the relay, never the producer.
 *
 * The mode comes from the last argument when the gateway starts it
 *   emitter -p --output-format stream-json --verbose -- "lines 1000000 200"
 * and from the arguments themselves when websocketd does
 *   websocketd -- emitter lines 1000000 200
 *
 *   lines N S     N lines of exactly S bytes (newline not counted): {"n":"0000000042","pad":"xx…"}
 *   rate R D S    R lines/s for D seconds, each {"t":<CLOCK_REALTIME ns>,"i":<i>,"pad":"xx…"} of S bytes
 *   sleep         {"type":"emitter.ready"}, then sleep until killed
 *   bytes B       exactly B bytes of 1 KiB lines {"seq":<i>,"pad":"xx…"} (the last one may be shorter)
 *
 * The emitter dies with its parent (PR_SET_PDEATHSIG), so a killed server never leaves one behind.
 * Build: cc -O2 -o bench/bin/emitter bench/emitter.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define BATCH_BYTES (256 * 1024)
#define MAX_WORDS 8
#define MIN_LINES_BYTES 32  /* {"n":"0000000000","pad":""} is 27 */
#define MIN_RATE_BYTES 48   /* {"t":1700000000000000000,"i":4294967295,"pad":""} fits in 64 with room */
#define BYTES_LINE 1024
#define MIN_TAIL 40         /* a shorter last line is folded into the one before it */

static void die(const char *msg) {
  fprintf(stderr, "emitter: %s\n", msg);
  exit(2);
}

/* Write all of buf; a closed pipe (the client went away) ends the process quietly. */
static void write_all(const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(1, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      exit(errno == EPIPE ? 0 : 1);
    }
    buf += n;
    len -= (size_t)n;
  }
}

static long arg_long(char **words, int count, int i, const char *name) {
  if (i >= count) die(name);
  char *end;
  long v = strtol(words[i], &end, 10);
  if (*end != '\0' || v < 0) die(name);
  return v;
}

/* One line of exactly `len` bytes plus '\n' at dst: `head` then "pad":"xx…"} */
static size_t pad_line(char *dst, const char *head, size_t len) {
  size_t h = strlen(head); /* ends with ,"pad":" */
  if (h + 2 > len) die("line size too small for its header");
  memcpy(dst, head, h);
  memset(dst + h, 'x', len - h - 2);
  dst[len - 2] = '"';
  dst[len - 1] = '}';
  dst[len] = '\n';
  return len + 1;
}

static void mode_lines(long n, long size) {
  if (size < MIN_LINES_BYTES || size > BATCH_BYTES / 2) die("lines: S out of range");
  size_t line = (size_t)size + 1;
  size_t per_batch = BATCH_BYTES / line;
  char *buf = malloc(per_batch * line);
  if (!buf) die("out of memory");
  for (size_t i = 0; i < per_batch; i++) pad_line(buf + i * line, "{\"n\":\"0000000000\",\"pad\":\"", (size_t)size);
  for (long done = 0; done < n;) {
    size_t k = (size_t)(n - done) < per_batch ? (size_t)(n - done) : per_batch;
    for (size_t i = 0; i < k; i++) { /* the 10 counter digits start at offset 6 */
      unsigned long v = (unsigned long)(done + (long)i);
      char *d = buf + i * line + 6 + 9;
      for (int j = 0; j < 10; j++, v /= 10) *d-- = (char)('0' + v % 10);
    }
    write_all(buf, k * line);
    done += (long)k;
  }
}

static void mode_rate(long rate, long seconds, long size) {
  if (rate < 1 || rate > 1000000 || size < MIN_RATE_BYTES || size > 65536) die("rate: R or S out of range");
  char *buf = malloc((size_t)size + 1);
  char head[96];
  if (!buf) die("out of memory");
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long total = rate * seconds;
  for (long i = 0; i < total; i++) {
    long long at = (long long)start.tv_sec * 1000000000LL + start.tv_nsec + (long long)i * 1000000000LL / rate;
    struct timespec due = {(time_t)(at / 1000000000LL), (long)(at % 1000000000LL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR) {
    }
    clock_gettime(CLOCK_REALTIME, &now);
    long long t = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    snprintf(head, sizeof head, "{\"t\":%lld,\"i\":%ld,\"pad\":\"", t, i);
    write_all(buf, pad_line(buf, head, (size_t)size)); /* one write per line: latency, not batching */
  }
}

static void mode_sleep(void) {
  static const char ready[] = "{\"type\":\"emitter.ready\"}\n";
  write_all(ready, sizeof ready - 1);
  for (;;) pause();
}

static void mode_bytes(long total) {
  long full = total / BYTES_LINE, tail = total % BYTES_LINE;
  long last_len = BYTES_LINE; /* length of the final line, newline included */
  if (tail >= MIN_TAIL) full += 1, last_len = tail;
  else if (tail > 0 && full > 0) last_len = BYTES_LINE + tail;
  else if (tail > 0) die("bytes: B too small");
  char *buf = malloc(BATCH_BYTES + 2 * BYTES_LINE);
  char head[64];
  if (!buf) die("out of memory");
  size_t used = 0;
  for (long i = 0; i < full; i++) {
    long len = i == full - 1 ? last_len : BYTES_LINE;
    snprintf(head, sizeof head, "{\"seq\":%ld,\"pad\":\"", i);
    used += pad_line(buf + used, head, (size_t)len - 1);
    if (used >= BATCH_BYTES) {
      write_all(buf, used);
      used = 0;
    }
  }
  write_all(buf, used);
}

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 0; /* the parent died before prctl took effect */
  signal(SIGPIPE, SIG_IGN);     /* EPIPE from write() instead, handled in write_all */

  /* The words of the mode: split the argument after "--" (the gateway), else argv itself (websocketd). */
  char *words[MAX_WORDS];
  int count = 0;
  int dashdash = 0;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--") == 0) dashdash = i;
  if (dashdash > 0 && dashdash + 1 < argc) {
    for (char *w = strtok(argv[dashdash + 1], " \t\n"); w && count < MAX_WORDS; w = strtok(NULL, " \t\n")) words[count++] = w;
  } else {
    for (int i = 1; i < argc && count < MAX_WORDS; i++) words[count++] = argv[i];
  }
  if (count == 0) die("no mode (lines | rate | sleep | bytes)");

  if (strcmp(words[0], "lines") == 0) mode_lines(arg_long(words, count, 1, "lines: N"), arg_long(words, count, 2, "lines: S"));
  else if (strcmp(words[0], "rate") == 0)
    mode_rate(arg_long(words, count, 1, "rate: R"), arg_long(words, count, 2, "rate: D"), arg_long(words, count, 3, "rate: S"));
  else if (strcmp(words[0], "sleep") == 0) mode_sleep();
  else if (strcmp(words[0], "bytes") == 0) mode_bytes(arg_long(words, count, 1, "bytes: B"));
  else die("unknown mode");
  return 0;
}
