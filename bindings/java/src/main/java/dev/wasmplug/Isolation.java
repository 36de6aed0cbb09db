package dev.wasmplug;

/** Where a plugin's instances run (wasmplug/isolation.h). */
public enum Isolation {
  /** The engine decides (its default: in-process). */
  DEFAULT(0),
  /** In this process. */
  NONE(1),
  /** Each instance in a worker process of its own. */
  PROCESS(2);

  final int code;

  Isolation(int code) {
    this.code = code;
  }
}
