{
  "targets": [
    {
      "target_name": "rondo_native",
      "sources": ["native/rondo_native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=c11"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
