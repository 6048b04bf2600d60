// rondo's native addon: the few system calls Node does not expose.
// mmap/munmap/msync for the slab files and flock for the single-writer lock; and the scan loop of
// a query, which must be fast in a process that has just started.
// N-API only, so one build loads on every Node version from 20 on.
#if !defined(__linux__)
// flock, posix_fallocate and the mapping rules below are Linux's; macOS and Windows need the work
// planned in docs/architecture.md ("Platforms"). Stop here rather than build something that fails
// at run time.
#error "rondo's native addon supports Linux only (see Platforms in docs/architecture.md)"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include <node_api.h>

typedef struct {
  void *addr;
  size_t len;
  int unmapped;
} mapping_t;

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, text, error;
  napi_create_string_utf8(env, "ERR_RONDO_NATIVE", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_value errno_value;
  napi_create_int32(env, err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_RONDO_NATIVE", msg);
  return NULL;
}

// The ArrayBuffer owns the mapping: when it is collected without an explicit unmap, unmap here.
static void finalize_mapping(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  mapping_t *m = (mapping_t *)hint;
  if (!m->unmapped) munmap(m->addr, m->len);
  free(m);
}

// map(fd, length, writable) -> ArrayBuffer over a MAP_SHARED mapping of the whole file.
static napi_value rn_map(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) return throw_type(env, "map(fd, length, writable) takes three arguments");
  int32_t fd;
  double length;
  bool writable;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok) return throw_type(env, "fd must be a number");
  if (napi_get_value_double(env, argv[1], &length) != napi_ok || !(length > 0) || length > 9007199254740991.0)
    return throw_type(env, "length must be a positive number");
  if (napi_get_value_bool(env, argv[2], &writable) != napi_ok) return throw_type(env, "writable must be a boolean");

  // Mapping past the end of the file would turn a later access into SIGBUS: refuse it here.
  // The size comes from lseek rather than fstat, whose symbol needs glibc 2.33: this way the
  // prebuilt addon runs on every glibc Node 20 runs on (2.28). The offset is put back.
  off_t here = lseek(fd, 0, SEEK_CUR);
  if (here < 0) return throw_errno(env, "lseek", errno);
  off_t size = lseek(fd, 0, SEEK_END);
  int size_errno = errno;
  if (lseek(fd, here, SEEK_SET) < 0) return throw_errno(env, "lseek", errno);
  if (size < 0) return throw_errno(env, "lseek", size_errno);
  if ((double)size < length) return throw_errno(env, "map: file is shorter than the mapping", EINVAL);

  size_t len = (size_t)length;
  int prot = writable ? (PROT_READ | PROT_WRITE) : PROT_READ;
  void *addr = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return throw_errno(env, "mmap", errno);

  mapping_t *m = (mapping_t *)malloc(sizeof *m);
  if (!m) {
    munmap(addr, len);
    return throw_errno(env, "malloc", ENOMEM);
  }
  m->addr = addr;
  m->len = len;
  m->unmapped = 0;

  napi_value buffer;
  napi_status status = napi_create_external_arraybuffer(env, addr, len, finalize_mapping, m, &buffer);
  if (status != napi_ok) {
    // The runtime has already handed the mapping to finalize_mapping (Node 20 calls it when the
    // buffer is too large, e.g. above 4 GiB), which unmaps it and frees m: touching either here
    // would free twice. The JS side refuses such sizes before calling map().
    napi_throw_error(env, "ERR_RONDO_NATIVE", "cannot create an external ArrayBuffer over the mapping");
    return NULL;
  }
  if (napi_wrap(env, buffer, m, NULL, NULL, NULL) != napi_ok) {
    napi_throw_error(env, "ERR_RONDO_NATIVE", "cannot attach the mapping to its ArrayBuffer");
    return NULL;
  }
  return buffer;
}

// unmap(buffer): detach the ArrayBuffer (every view over it becomes empty, so no stale access
// can fault) and release the mapping. A second call is a no-op.
static napi_value rn_unmap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return throw_type(env, "unmap(buffer) takes one argument");
  void *ptr = NULL;
  if (napi_remove_wrap(env, argv[0], &ptr) != napi_ok || ptr == NULL) return NULL;
  mapping_t *m = (mapping_t *)ptr;
  void *addr = m->addr;
  size_t len = m->len;
  m->unmapped = 1;  // the finalizer may run during detach; it must not unmap again
  napi_detach_arraybuffer(env, argv[0]);
  if (munmap(addr, len) != 0) return throw_errno(env, "munmap", errno);
  return NULL;
}

// sync(buffer): msync(MS_SYNC) so the mapped pages survive a power loss, not just a crash.
static napi_value rn_sync(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return throw_type(env, "sync(buffer) takes one argument");
  void *data = NULL;
  size_t len = 0;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &len) != napi_ok) return throw_type(env, "buffer must be an ArrayBuffer");
  if (data == NULL || len == 0) return NULL;
  if (msync(data, len, MS_SYNC) != 0) return throw_errno(env, "msync", errno);
  return NULL;
}

// lock(fd, exclusive) -> true when taken, false when another open file holds a conflicting lock.
static napi_value rn_lock(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return throw_type(env, "lock(fd, exclusive) takes two arguments");
  int32_t fd;
  bool exclusive;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok) return throw_type(env, "fd must be a number");
  if (napi_get_value_bool(env, argv[1], &exclusive) != napi_ok) return throw_type(env, "exclusive must be a boolean");
  int rc;
  do {
    rc = flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  napi_value result;
  if (rc == 0) {
    napi_get_boolean(env, true, &result);
    return result;
  }
  if (errno == EWOULDBLOCK) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  return throw_errno(env, "flock", errno);
}

// unlock(fd): release a lock taken with lock().
static napi_value rn_unlock(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) return throw_type(env, "unlock(fd) takes a file descriptor");
  if (flock(fd, LOCK_UN) != 0) return throw_errno(env, "flock(LOCK_UN)", errno);
  return NULL;
}

// allocate(fd, length): reserve the file's blocks now (posix_fallocate), so that a full disk
// fails at creation with an error instead of later as SIGBUS on a write through the mapping.
static napi_value rn_allocate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  double length;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_double(env, argv[1], &length) != napi_ok || !(length > 0))
    return throw_type(env, "allocate(fd, length) takes a file descriptor and a positive length");
  int rc = posix_fallocate(fd, 0, (off_t)length);
  // Some file systems (tmpfs on old kernels, some network mounts) cannot preallocate; the file
  // then stays sparse, which is still correct, only without the early ENOSPC.
  if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) return throw_errno(env, "posix_fallocate", rc);
  return NULL;
}

// The data and element count of a typed array argument, or false when it is not one of `type`.
static bool typed_array(napi_env env, napi_value value, napi_typedarray_type type, void **data, size_t *length) {
  napi_typedarray_type actual;
  if (napi_get_typedarray_info(env, value, &actual, length, data, NULL, NULL) != napi_ok) return false;
  return actual == type;
}

// scan(ts, values, base, pos, count, lo, hi, times, vals, k, ms, interval) -> new k.
// The checked scan of Ring.read (see ring.ts) for `count` consecutive ring positions from `pos`:
// the value of a position is kept only when its timestamp words are those of its expected slot
// (lo, hi for the first, one interval in ns more for each next), and when it is not NaN; kept
// points go to times/vals from k on, each with its slot start (ms, ms + interval, ...). In C
// because a query in a fresh process (the CLI's) would otherwise run this loop in V8's
// interpreter: here it runs at memory speed from the first call. Plain loads: the caller
// trusts the result only when the ring's seqlock did not move (see docs/storage-format.md).
static napi_value rn_scan(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 12) return throw_type(env, "scan() takes twelve arguments");
  int32_t *ts;
  double *values, *times, *vals;
  size_t ts_len, values_len, times_len, vals_len;
  if (!typed_array(env, argv[0], napi_int32_array, (void **)&ts, &ts_len) ||
      !typed_array(env, argv[1], napi_float64_array, (void **)&values, &values_len) ||
      !typed_array(env, argv[7], napi_float64_array, (void **)&times, &times_len) ||
      !typed_array(env, argv[8], napi_float64_array, (void **)&vals, &vals_len))
    return throw_type(env, "scan: ts must be an Int32Array; values, times and vals Float64Arrays");
  double base, pos, count, k, ms, interval;
  uint32_t lo, hi;
  if (napi_get_value_double(env, argv[2], &base) != napi_ok || napi_get_value_double(env, argv[3], &pos) != napi_ok ||
      napi_get_value_double(env, argv[4], &count) != napi_ok || napi_get_value_uint32(env, argv[5], &lo) != napi_ok ||
      napi_get_value_uint32(env, argv[6], &hi) != napi_ok || napi_get_value_double(env, argv[9], &k) != napi_ok ||
      napi_get_value_double(env, argv[10], &ms) != napi_ok || napi_get_value_double(env, argv[11], &interval) != napi_ok)
    return throw_type(env, "scan: base, pos, count, lo, hi, k, ms and interval must be numbers");
  // Every index the loop touches is checked once, here: a wrong argument throws, never reads or
  // writes outside the arrays.
  if (!(base >= 0 && pos >= 0 && count >= 0 && k >= 0 && interval > 0) || pos + count > (double)ts_len / 2 ||
      base + pos + count > (double)values_len || k + count > (double)times_len || k + count > (double)vals_len)
    return throw_type(env, "scan: a range is outside its array");
  uint64_t expected = ((uint64_t)hi << 32) | lo;
  const uint64_t step = (uint64_t)interval * 1000000u;
  size_t out = (size_t)k;
  size_t p = (size_t)pos;
  const size_t end = p + (size_t)count;
  const double *column = values + (size_t)base;
  // Blocks of 8 positions: when all hold their own slot and a value (a series recorded every
  // interval, the common case) they are checked without a branch per position and copied whole;
  // otherwise position by position.
  while (p < end) {
    const size_t n = end - p < 8 ? end - p : 8;
    uint64_t bad = n < 8;
    for (size_t i = 0; i < n; i++) {
      uint64_t word;
      memcpy(&word, &ts[2 * (p + i)], sizeof word);  // little-endian: the low word first
      double v = column[p + i];
      bad |= (word ^ (expected + i * step)) | (uint64_t)(v != v);
    }
    if (!bad) {
      for (size_t i = 0; i < 8; i++) {
        times[out + i] = ms + (double)i * interval;
        vals[out + i] = column[p + i];
      }
      out += 8;
    } else {
      for (size_t i = 0; i < n; i++) {
        uint64_t word;
        memcpy(&word, &ts[2 * (p + i)], sizeof word);
        double v = column[p + i];
        if (word != expected + i * step || v != v) continue;  // another slot's, or NaN: no value
        times[out] = ms + (double)i * interval;
        vals[out++] = v;
      }
    }
    p += n;
    ms += (double)n * interval;
    expected += n * step;
  }
  napi_value result;
  napi_create_double(env, (double)out, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"map", NULL, rn_map, NULL, NULL, NULL, napi_default, NULL},
      {"unmap", NULL, rn_unmap, NULL, NULL, NULL, napi_default, NULL},
      {"sync", NULL, rn_sync, NULL, NULL, NULL, napi_default, NULL},
      {"lock", NULL, rn_lock, NULL, NULL, NULL, napi_default, NULL},
      {"unlock", NULL, rn_unlock, NULL, NULL, NULL, napi_default, NULL},
      {"allocate", NULL, rn_allocate, NULL, NULL, NULL, napi_default, NULL},
      {"scan", NULL, rn_scan, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
