// rondo's native addon: the few system calls Node does not expose.
// mmap/munmap/msync for the slab files and flock for the single-writer lock.
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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"map", NULL, rn_map, NULL, NULL, NULL, napi_default, NULL},
      {"unmap", NULL, rn_unmap, NULL, NULL, NULL, napi_default, NULL},
      {"sync", NULL, rn_sync, NULL, NULL, NULL, napi_default, NULL},
      {"lock", NULL, rn_lock, NULL, NULL, NULL, napi_default, NULL},
      {"unlock", NULL, rn_unlock, NULL, NULL, NULL, napi_default, NULL},
      {"allocate", NULL, rn_allocate, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
