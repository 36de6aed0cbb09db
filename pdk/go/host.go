package pdk

import "fmt"

// Level is a log level for [Log].
type Level int32

// Log levels, as the host's wasmplug.log numbers them.
const (
	LevelTrace Level = 0
	LevelDebug Level = 1
	LevelInfo  Level = 2
	LevelWarn  Level = 3
	LevelError Level = 4
)

// Log sends msg (UTF-8) to the host's log at the given level.
func Log(level Level, msg string) { hostLog(int32(level), msg) }

// Logf formats like fmt.Sprintf and sends the result to the host's log.
func Logf(level Level, format string, args ...any) {
	hostLog(int32(level), fmt.Sprintf(format, args...))
}

// Error marks the current call as failed with msg (wasmplug.error): the host
// discards the output and its caller gets WP_ERR_PLUGIN with this message.
// [Handle] calls it for a handler's error, so handlers rarely need it.
func Error(msg string) { hostError(msg) }

// configRet is config_get's 12-byte, 4-aligned return area. A global, so the
// host writes to a fixed address that the garbage collector never moves.
var configRet [3]uint32

// ConfigGet returns the value of config key key from the plugin's manifest,
// and whether it is set.
func ConfigGet(key string) (string, bool) {
	configRet = [3]uint32{}
	hostConfigGet(key, &configRet)
	// option<string>: tag byte at offset 0 (the low byte, little-endian),
	// then [ptr @4, len @8] of a buffer allocated with cabi_realloc.
	if configRet[0]&0xff == 0 {
		return "", false
	}
	return string(take(configRet[1], configRet[2])), true
}
