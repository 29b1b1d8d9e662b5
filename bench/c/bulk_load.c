/*
 * Load generator for bench/record_bench.ts: both ends of a bulk SPICE display stream, so the
 * recording proxy between them shares the cores with as little load-generator work as there
 * can be (the kernel's socket copies, nothing else).
 *
 *   bulk_load serve LINK BLOCK BLOCKS RATE   listen on 127.0.0.1 (prints "port N"), take one
 *                                            connection, answer its link phase, then send the
 *                                            file BLOCK BLOCKS times, held to RATE bytes/s on
 *                                            average (0: full speed); behind by more than
 *                                            20 ms, it does not make up the time lost
 *   bulk_load read PORT LINK TOTAL SKIP      connect, do the client's link phase, read TOTAL
 *                                            bytes; prints MB/s over the bytes after SKIP
 *
 * LINK: four little-endian u32 lengths, then the link message, the reply, the auth mechanism
 * with the ticket, and the link result (testing/synthetic_spice.ts syntheticLink).
 * Build: gcc -O2 -o bulk_load bulk_load.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CATCH_UP_S 0.020
#define READ_BYTES (4 << 20)

static void die(const char *what) {
  perror(what);
  exit(2);
}

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(*len ? *len : 1);
  if (!b || fread(b, 1, *len, f) != *len) die(path);
  fclose(f);
  return b;
}

static void read_exactly(int fd, unsigned char *b, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = read(fd, b + got, n - got);
    if (r <= 0) die("read");
    got += (size_t)r;
  }
}

static void write_all(int fd, const unsigned char *b, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t w = write(fd, b + off, n - off);
    if (w <= 0) die("write");
    off += (size_t)w;
  }
}

enum { LINK, REPLY, TICKET, RESULT };

struct link {
  unsigned char *part[4];
  uint32_t len[4];
};

static struct link load_link(const char *path) {
  size_t n;
  unsigned char *b = slurp(path, &n);
  struct link l;
  size_t at = 16;
  for (int i = 0; i < 4 && n >= 16; i++) {
    memcpy(&l.len[i], b + 4 * i, 4);
    l.part[i] = b + at;
    at += l.len[i];
  }
  if (n < 16 || at != n) {
    fprintf(stderr, "%s: not a link file\n", path);
    exit(2);
  }
  return l;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void no_delay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int serve(char **a) {
  struct link l = load_link(a[0]);
  size_t block_len;
  unsigned char *block = slurp(a[1], &block_len);
  long blocks = atol(a[2]);
  double rate = atof(a[3]);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof sa;
  if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) || listen(s, 1) ||
      getsockname(s, (struct sockaddr *)&sa, &sl))
    die("listen");
  printf("port %d\n", ntohs(sa.sin_port));
  fflush(stdout);
  int c = accept(s, NULL, NULL);
  if (c < 0) die("accept");
  no_delay(c);
  unsigned char head[16];
  read_exactly(c, head, sizeof head);
  uint32_t rest;
  memcpy(&rest, head + 12, 4);
  unsigned char *buf = malloc((size_t)rest + 4 + 128);
  if (!buf) die("malloc");
  read_exactly(c, buf, rest);
  write_all(c, l.part[REPLY], l.len[REPLY]);
  read_exactly(c, buf, 4 + 128);
  write_all(c, l.part[RESULT], l.len[RESULT]);
  double period = rate > 0 ? (double)block_len / rate : 0;
  double due = now_s();
  for (long i = 0; i < blocks; i++) {
    write_all(c, block, block_len);
    if (rate <= 0) continue;
    double t = now_s();
    due = due + period > t - MAX_CATCH_UP_S ? due + period : t - MAX_CATCH_UP_S;
    if (due > t) {
      double d = due - t;
      struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
      nanosleep(&ts, NULL);
    }
  }
  close(c);
  close(s);
  return 0;
}

static int read_stream(char **a) {
  int port = atoi(a[0]);
  struct link l = load_link(a[1]);
  double total = atof(a[2]), skip = atof(a[3]);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {
      .sin_family = AF_INET,
      .sin_port = htons((uint16_t)port),
      .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
  };
  if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa)) die("connect");
  no_delay(c);
  unsigned char *buf = malloc(READ_BYTES);
  if (!buf) die("malloc");
  write_all(c, l.part[LINK], l.len[LINK]);
  read_exactly(c, buf, l.len[REPLY]);
  write_all(c, l.part[TICKET], l.len[TICKET]);
  read_exactly(c, buf, 4);
  double got = 0, from = 0, t0 = now_s();
  int clocked = skip <= 0;
  while (got < total) {
    ssize_t r = read(c, buf, READ_BYTES);
    if (r <= 0) {
      fprintf(stderr, "stream ended after %.0f of %.0f bytes\n", got, total);
      return 2;
    }
    got += (double)r;
    if (!clocked && got >= skip) {
      clocked = 1;
      t0 = now_s();
      from = got;
    }
  }
  printf("%.3f\n", (total - from) / 1e6 / (now_s() - t0));
  close(c);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 6 && !strcmp(argv[1], "serve")) return serve(argv + 2);
  if (argc == 6 && !strcmp(argv[1], "read")) return read_stream(argv + 2);
  fprintf(stderr, "usage: bulk_load serve LINK BLOCK BLOCKS RATE | read PORT LINK TOTAL SKIP\n");
  return 2;
}
