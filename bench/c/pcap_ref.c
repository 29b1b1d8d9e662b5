/*
 * C reference for bench/pcap_bench.ts: the same workload as ours, through libpcap.
 *
 *   pcap_ref write FILE COUNT PAYLOAD_BYTES   build COUNT Ethernet+IPv4+TCP frames (IPv4 and
 *                                             TCP checksums computed per frame, seq varies)
 *                                             and pcap_dump them; prints elapsed ns
 *   pcap_ref read FILE                        pcap_next_ex over FILE; prints "packets ns"
 *
 * Timing covers the loop plus pcap_dump_close / pcap_close (not process start-up).
 * Build: gcc -O2 -o pcap_ref pcap_ref.c -lpcap
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum) {
  size_t i = 0;
  for (; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (i < n) sum += (uint32_t)p[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

static void put16(uint8_t *p, uint32_t v) { p[0] = v >> 8; p[1] = v; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

/* Same layout as lib/net writeFrame: Ethernet II, IPv4 (DF), TCP (PSH|ACK), payload. */
static size_t build_frame(uint8_t *f, const uint8_t *payload, size_t len, uint32_t seq,
                          uint32_t ack, uint16_t ip_id) {
  static const uint8_t dst[6] = {2, 0, 0, 0, 0, 2}, src[6] = {2, 0, 0, 0, 0, 1};
  memcpy(f, dst, 6);
  memcpy(f + 6, src, 6);
  put16(f + 12, 0x0800);
  uint8_t *ip = f + 14;
  ip[0] = 0x45; ip[1] = 0;
  put16(ip + 2, (uint32_t)(40 + len));
  put16(ip + 4, ip_id);
  put16(ip + 6, 0x4000);
  ip[8] = 64; ip[9] = 6;
  put16(ip + 10, 0);
  put32(ip + 12, 0x0a000001);
  put32(ip + 16, 0x0a000002);
  put16(ip + 10, ~sum16(ip, 20, 0) & 0xffff);
  uint8_t *tcp = ip + 20;
  put16(tcp, 10001);
  put16(tcp + 2, 5930);
  put32(tcp + 4, seq);
  put32(tcp + 8, ack);
  tcp[12] = 5 << 4; tcp[13] = 0x18;
  put16(tcp + 14, 65535);
  put32(tcp + 16, 0);
  memcpy(tcp + 20, payload, len);
  uint32_t pseudo = sum16(ip + 12, 8, 6 + 20 + (uint32_t)len);
  put16(tcp + 16, ~sum16(tcp, 20 + len, pseudo) & 0xffff);
  return 54 + len;
}

static int do_write(const char *file, long count, size_t len) {
  pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
  pcap_dumper_t *d = pcap_dump_open(p, file);
  if (!d) { fprintf(stderr, "%s\n", pcap_geterr(p)); return 2; }
  uint8_t *payload = malloc(len), *frame = malloc(54 + len);
  for (size_t i = 0; i < len; i++) payload[i] = (uint8_t)(i * 7);
  uint64_t t0 = now_ns();
  struct pcap_pkthdr h;
  for (long i = 0; i < count; i++) {
    uint32_t seq = (uint32_t)(1000 + (uint64_t)i * len);
    size_t n = build_frame(frame, payload, len, seq, 1000, (uint16_t)i);
    uint64_t ts = 1700000000000000000ull + (uint64_t)i * 1000;
    h.ts.tv_sec = ts / 1000000000ull;
    h.ts.tv_usec = (ts % 1000000000ull) / 1000;
    h.caplen = h.len = (bpf_u_int32)n;
    pcap_dump((u_char *)d, &h, frame);
  }
  pcap_dump_close(d);
  uint64_t t1 = now_ns();
  pcap_close(p);
  printf("%llu\n", (unsigned long long)(t1 - t0));
  return 0;
}

static int do_read(const char *file) {
  char err[PCAP_ERRBUF_SIZE];
  uint64_t t0 = now_ns();
  pcap_t *p = pcap_open_offline(file, err);
  if (!p) { fprintf(stderr, "%s\n", err); return 2; }
  struct pcap_pkthdr *h;
  const u_char *data;
  long packets = 0;
  uint64_t bytes = 0;
  int rc;
  while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
    packets++;
    bytes += h->caplen + data[0];
  }
  pcap_close(p);
  uint64_t t1 = now_ns();
  if (rc == PCAP_ERROR) { fprintf(stderr, "read error\n"); return 2; }
  printf("%ld %llu %llu\n", packets, (unsigned long long)(t1 - t0), (unsigned long long)bytes);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "write") == 0)
    return do_write(argv[2], atol(argv[3]), (size_t)atol(argv[4]));
  if (argc == 3 && strcmp(argv[1], "read") == 0) return do_read(argv[2]);
  fprintf(stderr, "usage: pcap_ref write FILE COUNT PAYLOAD | pcap_ref read FILE\n");
  return 2;
}
