package wasmplug

/*
#include "wpgo.h"
*/
import "C"

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Go forms of WIT values, for component calls (Invoke) and component host
// functions. Arguments are converted by the parameter's WIT type, so any Go
// value of a fitting shape works:
//
//	bool                bool
//	s8 ... u64          any Go integer in range (results: int8 ... uint64)
//	f32, f64            any Go float or integer (results: float32, float64)
//	char                rune, or a one-rune string (results: rune)
//	string              string
//	list<u8>            []byte, or any slice (results: []byte)
//	list<T>             slice or array (results: []any)
//	record              struct (fields matched by `wit:"name"` tag or by name,
//	                    ignoring case and dashes) or map[string]T (results:
//	                    map[string]any)
//	tuple               slice, array, or struct in field order (results: []any)
//	variant             Variant (results: Variant)
//	enum                string (results: string)
//	option<T>           nil or a nil pointer for none; a pointer, or any other
//	                    value, for some (results: nil or the value)
//	result<T, E>        Result (results: Result)
//	flags               []string or map[string]bool (results: []string)
//	own<T>, borrow<T>   *Resource (results: *Resource)
//
// InvokeInto decodes a result into a typed Go value instead (a struct for a
// record, a pointer for an option...).

// Variant is a WIT variant value: the case and its payload (nil if none).
type Variant struct {
	Case    string
	Payload any
}

// Result is a WIT result value: Ok or Err (either may be nil when the type
// has no payload on that side).
type Result struct {
	IsErr bool
	Ok    any
	Err   any
}

// Ok makes an ok result.
func Ok(v any) Result { return Result{Ok: v} }

// Err makes an err result.
func Err(v any) Result { return Result{IsErr: true, Err: v} }

// Invoke calls a component export ("greet", or "INTERFACE#FUNC") with Go
// arguments converted by the parameters' WIT types, and returns the result
// in its Go form (nil for a function without one).
func (i *Instance) Invoke(name string, args ...any) (any, error) {
	if err := i.check(); err != nil {
		return nil, err
	}
	f, err := i.plugin.fn(name)
	if err != nil {
		return nil, err
	}
	return i.InvokeFunc(f, args...)
}

// InvokeFunc is Invoke through a handle.
func (i *Instance) InvokeFunc(f *Func, args ...any) (any, error) {
	var out any
	err := i.invoke(f, args, func(v *C.wp_value, t *C.wp_type) error {
		out = ownedValue(v, t)
		return nil
	})
	return out, err
}

// InvokeInto is Invoke decoding the result into result, a pointer to a Go
// value of a fitting shape (see the table above); nil drops the result.
func (i *Instance) InvokeInto(name string, result any, args ...any) error {
	if err := i.check(); err != nil {
		return err
	}
	f, err := i.plugin.fn(name)
	if err != nil {
		return err
	}
	var dst reflect.Value
	if result != nil {
		dst = reflect.ValueOf(result)
		if dst.Kind() != reflect.Pointer || dst.IsNil() {
			return errorf(KindBadInput, "wasmplug: InvokeInto %q: result must be a non-nil pointer, not %T", name, result)
		}
	}
	return i.invoke(f, args, func(v *C.wp_value, t *C.wp_type) error {
		if !dst.IsValid() {
			return nil
		}
		return assign(dst.Elem(), ownedValue(v, t), "result")
	})
}

// InvokeContext is Invoke stopped (KindInterrupted) when ctx is done.
func (i *Instance) InvokeContext(ctx context.Context, name string, args ...any) (out any, err error) {
	err = i.withContext(ctx, func() error {
		var e error
		out, e = i.Invoke(name, args...)
		return e
	})
	return out, err
}

func (i *Instance) invoke(f *Func, args []any, got func(*C.wp_value, *C.wp_type) error) error {
	if err := i.check(); err != nil {
		return err
	}
	if f.plugin.ptr != i.plugin.ptr {
		return errorf(KindBadInput, "wasmplug: function %q belongs to plugin %q, not %q",
			f.name, f.plugin.name, i.plugin.name)
	}
	defer runtime.KeepAlive(i)
	ft := C.wp_plugin_get_functype(i.plugin.ptr, f.id)
	if ft == nil {
		return errorf(KindBadInput, "wasmplug: %q is a core module export: use Call, CallBytes or CallString", f.name)
	}
	np := int(C.wp_functype_param_count(ft))
	if len(args) != np {
		return errorf(KindBadInput, "wasmplug: %s takes %d arguments (%s), got %d",
			f.name, np, C.GoString(C.wp_functype_to_string(ft)), len(args))
	}
	cargs := make([]*C.wp_value, np+1)
	defer func() {
		for _, v := range cargs {
			C.wp_value_free(v)
		}
	}()
	for k := 0; k < np; k++ {
		pname := C.GoString(C.wp_functype_param_name(ft, C.size_t(k)))
		v, err := toValue(args[k], C.wp_functype_param_type(ft, C.size_t(k)), pname)
		if err != nil {
			return &Error{Kind: KindBadInput, Message: fmt.Sprintf("wasmplug: %s: %v", f.name, err)}
		}
		cargs[k] = v
	}
	var res *C.wp_value
	if err := takeError(C.wp_instance_invoke_func(i.ptr, f.id, &cargs[0], C.size_t(np), &res)); err != nil {
		return err
	}
	defer C.wp_value_free(res)
	if res == nil {
		return got(nil, nil)
	}
	return got(res, C.wp_functype_result(ft))
}

// fromValue is the Go form of a WIT value; t (may be nil) tells list<u8>.
func fromValue(v *C.wp_value, t *C.wp_type) any { return decode(v, t, false) }

// ownedValue is fromValue for a value about to be freed: resource handles
// in it are copied into Resources of their own.
func ownedValue(v *C.wp_value, t *C.wp_type) any { return decode(v, t, true) }

func decode(v *C.wp_value, t *C.wp_type, own bool) any {
	if v == nil {
		return nil
	}
	child := func(i int) *C.wp_type {
		if t == nil || C.size_t(i) >= C.wp_type_get_count(t) {
			return nil
		}
		return C.wp_type_get_child(t, C.size_t(i))
	}
	switch C.wp_value_get_kind(v) {
	case C.WP_TYPE_BOOL:
		return bool(C.wp_value_get_bool(v))
	case C.WP_TYPE_S8:
		return int8(C.wp_value_get_int(v))
	case C.WP_TYPE_S16:
		return int16(C.wp_value_get_int(v))
	case C.WP_TYPE_S32:
		return int32(C.wp_value_get_int(v))
	case C.WP_TYPE_S64:
		return int64(C.wp_value_get_int(v))
	case C.WP_TYPE_U8:
		return uint8(C.wp_value_get_uint(v))
	case C.WP_TYPE_U16:
		return uint16(C.wp_value_get_uint(v))
	case C.WP_TYPE_U32:
		return uint32(C.wp_value_get_uint(v))
	case C.WP_TYPE_U64:
		return uint64(C.wp_value_get_uint(v))
	case C.WP_TYPE_F32:
		return float32(C.wp_value_get_f32(v))
	case C.WP_TYPE_F64:
		return float64(C.wp_value_get_f64(v))
	case C.WP_TYPE_CHAR:
		return rune(C.wp_value_get_char(v))
	case C.WP_TYPE_STRING:
		var n C.size_t
		p := C.wp_value_get_string(v, &n)
		return C.GoStringN(p, C.int(n))
	case C.WP_TYPE_LIST:
		n := int(C.wp_value_get_count(v))
		et := child(0)
		if et != nil && C.wp_type_get_kind(et) == C.WP_TYPE_U8 {
			b := make([]byte, n)
			// One copy of the value's buffer (a list<u8> is held as one);
			// item by item only for a list built some other way.
			var m C.size_t
			if p := C.wp_value_get_bytes(v, &m); p != nil && int(m) == n {
				copy(b, unsafe.Slice((*byte)(unsafe.Pointer(p)), n))
				return b
			}
			for k := range b {
				b[k] = byte(C.wp_value_get_uint(C.wp_value_get_item(v, C.size_t(k))))
			}
			return b
		}
		out := make([]any, n)
		for k := range out {
			out[k] = decode(C.wp_value_get_item(v, C.size_t(k)), et, own)
		}
		return out
	case C.WP_TYPE_TUPLE:
		n := int(C.wp_value_get_count(v))
		out := make([]any, n)
		for k := range out {
			out[k] = decode(C.wp_value_get_item(v, C.size_t(k)), child(k), own)
		}
		return out
	case C.WP_TYPE_RECORD:
		n := int(C.wp_value_get_count(v))
		out := make(map[string]any, n)
		for k := 0; k < n; k++ {
			name := C.GoString(C.wp_value_get_name(v, C.size_t(k)))
			out[name] = decode(C.wp_value_get_item(v, C.size_t(k)), fieldType(t, name), own)
		}
		return out
	case C.WP_TYPE_VARIANT:
		c := C.GoString(C.wp_value_get_case(v))
		return Variant{Case: c, Payload: decode(C.wp_value_get_payload(v), fieldType(t, c), own)}
	case C.WP_TYPE_ENUM:
		return C.GoString(C.wp_value_get_case(v))
	case C.WP_TYPE_OPTION:
		return decode(C.wp_value_get_payload(v), child(0), own)
	case C.WP_TYPE_RESULT:
		isErr := C.GoString(C.wp_value_get_case(v)) == "err"
		if isErr {
			return Result{IsErr: true, Err: decode(C.wp_value_get_payload(v), child(1), own)}
		}
		return Result{Ok: decode(C.wp_value_get_payload(v), child(0), own)}
	case C.WP_TYPE_OWN, C.WP_TYPE_BORROW:
		if own {
			return ownedResource(C.wp_value_clone(v))
		}
		return &Resource{v: v, borrowed: true}
	case C.WP_TYPE_FLAGS:
		n := int(C.wp_value_get_count(v))
		out := make([]string, n)
		for k := range out {
			out[k] = C.GoString(C.wp_value_get_name(v, C.size_t(k)))
		}
		return out
	}
	return nil
}

// fieldType is the type of record field / variant case `name` of t.
func fieldType(t *C.wp_type, name string) *C.wp_type {
	if t == nil {
		return nil
	}
	n := C.wp_type_get_count(t)
	for k := C.size_t(0); k < n; k++ {
		if C.GoString(C.wp_type_get_name(t, k)) == name {
			return C.wp_type_get_child(t, k)
		}
	}
	return nil
}

// normName matches WIT names to Go names: lower case, no dashes or underscores.
func normName(s string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s))
}

// structField finds the field of struct value sv for WIT name.
func structField(sv reflect.Value, name string) (reflect.Value, bool) {
	st := sv.Type()
	want := normName(name)
	for k := 0; k < st.NumField(); k++ {
		f := st.Field(k)
		if !f.IsExported() {
			continue
		}
		if tag, ok := f.Tag.Lookup("wit"); ok {
			if tag == name {
				return sv.Field(k), true
			}
			continue
		}
		if normName(f.Name) == want {
			return sv.Field(k), true
		}
	}
	return reflect.Value{}, false
}

func typeStr(t *C.wp_type) string { return C.GoString(C.wp_type_to_string(t)) }

// toValue converts a Go value to a WIT value of type t (owned by the caller).
func toValue(x any, t *C.wp_type, path string) (*C.wp_value, error) {
	v, err := encode(reflect.ValueOf(x), t, path)
	if err == nil && v == nil {
		err = fmt.Errorf("%s: out of memory", path)
	}
	return v, err
}

func encode(v reflect.Value, t *C.wp_type, path string) (*C.wp_value, error) {
	kind := C.wp_type_get_kind(t)
	if kind == C.WP_TYPE_OPTION {
		for v.IsValid() && v.Kind() == reflect.Interface {
			v = v.Elem()
		}
		if !v.IsValid() {
			return C.wp_value_new_none(), nil
		}
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return C.wp_value_new_none(), nil
			}
			v = v.Elem()
		}
		inner, err := encode(v, C.wp_type_get_child(t, 0), path)
		if err != nil {
			return nil, err
		}
		return C.wp_value_new_some(inner), nil
	}
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			v = reflect.Value{}
			break
		}
		v = v.Elem()
	}
	mismatch := func() error {
		if !v.IsValid() {
			return fmt.Errorf("%s: nil where %s is expected", path, typeStr(t))
		}
		return fmt.Errorf("%s: a Go %s cannot be passed as %s", path, v.Type(), typeStr(t))
	}
	if !v.IsValid() {
		return nil, mismatch()
	}
	switch kind {
	case C.WP_TYPE_BOOL:
		if v.Kind() != reflect.Bool {
			return nil, mismatch()
		}
		return C.wp_value_new_bool(C.bool(v.Bool())), nil
	case C.WP_TYPE_S8, C.WP_TYPE_S16, C.WP_TYPE_S32, C.WP_TYPE_S64:
		bits := map[C.wp_type_kind]uint{C.WP_TYPE_S8: 8, C.WP_TYPE_S16: 16, C.WP_TYPE_S32: 32, C.WP_TYPE_S64: 64}[kind]
		n, ok := asInt(v)
		if !ok {
			return nil, mismatch()
		}
		if bits < 64 && (n < -(1<<(bits-1)) || n >= 1<<(bits-1)) {
			return nil, fmt.Errorf("%s: %d does not fit in %s", path, n, typeStr(t))
		}
		switch kind {
		case C.WP_TYPE_S8:
			return C.wp_value_new_s8(C.int8_t(n)), nil
		case C.WP_TYPE_S16:
			return C.wp_value_new_s16(C.int16_t(n)), nil
		case C.WP_TYPE_S32:
			return C.wp_value_new_s32(C.int32_t(n)), nil
		}
		return C.wp_value_new_s64(C.int64_t(n)), nil
	case C.WP_TYPE_U8, C.WP_TYPE_U16, C.WP_TYPE_U32, C.WP_TYPE_U64:
		bits := map[C.wp_type_kind]uint{C.WP_TYPE_U8: 8, C.WP_TYPE_U16: 16, C.WP_TYPE_U32: 32, C.WP_TYPE_U64: 64}[kind]
		n, ok := asUint(v)
		if !ok {
			if _, isInt := asInt(v); isInt {
				return nil, fmt.Errorf("%s: %v does not fit in %s", path, v.Interface(), typeStr(t))
			}
			return nil, mismatch()
		}
		if bits < 64 && n >= 1<<bits {
			return nil, fmt.Errorf("%s: %d does not fit in %s", path, n, typeStr(t))
		}
		switch kind {
		case C.WP_TYPE_U8:
			return C.wp_value_new_u8(C.uint8_t(n)), nil
		case C.WP_TYPE_U16:
			return C.wp_value_new_u16(C.uint16_t(n)), nil
		case C.WP_TYPE_U32:
			return C.wp_value_new_u32(C.uint32_t(n)), nil
		}
		return C.wp_value_new_u64(C.uint64_t(n)), nil
	case C.WP_TYPE_F32, C.WP_TYPE_F64:
		var f float64
		switch {
		case v.CanFloat():
			f = v.Float()
		case v.CanInt():
			f = float64(v.Int())
		case v.CanUint():
			f = float64(v.Uint())
		default:
			return nil, mismatch()
		}
		if kind == C.WP_TYPE_F32 {
			return C.wp_value_new_f32(C.float(f)), nil
		}
		return C.wp_value_new_f64(C.double(f)), nil
	case C.WP_TYPE_CHAR:
		if v.Kind() == reflect.String {
			s := v.String()
			r, size := utf8.DecodeRuneInString(s)
			if size == 0 || size != len(s) || r == utf8.RuneError {
				return nil, fmt.Errorf("%s: %q is not one character", path, s)
			}
			return C.wp_value_new_char(C.uint32_t(r)), nil
		}
		n, ok := asInt(v)
		if !ok || n < 0 || n > math.MaxUint32 {
			return nil, mismatch()
		}
		return C.wp_value_new_char(C.uint32_t(n)), nil
	case C.WP_TYPE_STRING:
		if v.Kind() != reflect.String {
			return nil, mismatch()
		}
		s := v.String()
		if len(s) == 0 {
			return C.wp_value_new_string_n(emptyC, 0), nil
		}
		r := C.wp_value_new_string_n((*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s)))
		runtime.KeepAlive(s)
		return r, nil
	case C.WP_TYPE_LIST:
		et := C.wp_type_get_child(t, 0)
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 &&
			C.wp_type_get_kind(et) == C.WP_TYPE_U8 {
			b := v.Bytes()
			if len(b) == 0 {
				return C.wp_value_new_bytes(unsafe.Pointer(emptyC), 0), nil
			}
			r := C.wp_value_new_bytes(unsafe.Pointer(&b[0]), C.size_t(len(b)))
			runtime.KeepAlive(b)
			return r, nil
		}
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			return nil, mismatch()
		}
		items, err := encodeItems(v.Len(), func(k int) (*C.wp_value, error) {
			return encode(v.Index(k), et, fmt.Sprintf("%s[%d]", path, k))
		})
		if err != nil {
			return nil, err
		}
		return C.wp_value_new_list(&items[0], C.size_t(v.Len())), nil
	case C.WP_TYPE_TUPLE:
		n := int(C.wp_type_get_count(t))
		var get func(int) reflect.Value
		switch v.Kind() {
		case reflect.Slice, reflect.Array:
			if v.Len() != n {
				return nil, fmt.Errorf("%s: %s has %d elements, got %d", path, typeStr(t), n, v.Len())
			}
			get = v.Index
		case reflect.Struct:
			if v.NumField() != n {
				return nil, fmt.Errorf("%s: %s has %d elements, the struct %d fields", path, typeStr(t), n, v.NumField())
			}
			get = v.Field
		default:
			return nil, mismatch()
		}
		items, err := encodeItems(n, func(k int) (*C.wp_value, error) {
			return encode(get(k), C.wp_type_get_child(t, C.size_t(k)), fmt.Sprintf("%s.%d", path, k))
		})
		if err != nil {
			return nil, err
		}
		return C.wp_value_new_tuple(&items[0], C.size_t(n)), nil
	case C.WP_TYPE_RECORD:
		n := int(C.wp_type_get_count(t))
		names := make([]*C.char, n+1)
		for k := 0; k < n; k++ {
			names[k] = C.wp_type_get_name(t, C.size_t(k))
		}
		var get func(name string) (reflect.Value, bool)
		switch {
		case v.Kind() == reflect.Struct:
			get = func(name string) (reflect.Value, bool) { return structField(v, name) }
		case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String:
			get = func(name string) (reflect.Value, bool) {
				e := v.MapIndex(reflect.ValueOf(name).Convert(v.Type().Key()))
				return e, e.IsValid()
			}
		default:
			return nil, mismatch()
		}
		items, err := encodeItems(n, func(k int) (*C.wp_value, error) {
			name := C.GoString(names[k])
			fv, ok := get(name)
			ft := C.wp_type_get_child(t, C.size_t(k))
			if !ok {
				if C.wp_type_get_kind(ft) == C.WP_TYPE_OPTION {
					return C.wp_value_new_none(), nil
				}
				return nil, fmt.Errorf("%s: field %q of %s is missing", path, name, typeStr(t))
			}
			return encode(fv, ft, path+"."+name)
		})
		if err != nil {
			return nil, err
		}
		return C.wp_value_new_record(&names[0], &items[0], C.size_t(n)), nil
	case C.WP_TYPE_VARIANT:
		var c string
		var payload reflect.Value
		switch x := v.Interface().(type) {
		case Variant:
			c, payload = x.Case, reflect.ValueOf(x.Payload)
		default:
			if v.Kind() != reflect.String {
				return nil, mismatch()
			}
			c = v.String()
		}
		k, ok := caseIndex(t, c)
		if !ok {
			return nil, fmt.Errorf("%s: %s has no case %q", path, typeStr(t), c)
		}
		cname := C.wp_type_get_name(t, C.size_t(k))
		pt := C.wp_type_get_child(t, C.size_t(k))
		if pt == nil {
			if payload.IsValid() {
				return nil, fmt.Errorf("%s: case %q has no payload", path, c)
			}
			return C.wp_value_new_variant(cname, nil), nil
		}
		p, err := encode(payload, pt, path+"."+c)
		if err != nil {
			return nil, err
		}
		return C.wp_value_new_variant(cname, p), nil
	case C.WP_TYPE_ENUM:
		if v.Kind() != reflect.String {
			return nil, mismatch()
		}
		k, ok := caseIndex(t, v.String())
		if !ok {
			return nil, fmt.Errorf("%s: %s has no case %q", path, typeStr(t), v.String())
		}
		return C.wp_value_new_enum(C.wp_type_get_name(t, C.size_t(k))), nil
	case C.WP_TYPE_RESULT:
		r, ok := v.Interface().(Result)
		if !ok {
			return nil, mismatch()
		}
		side, payload := 0, r.Ok
		if r.IsErr {
			side, payload = 1, r.Err
		}
		pt := C.wp_type_get_child(t, C.size_t(side))
		var p *C.wp_value
		if pt != nil {
			var err error
			if p, err = encode(reflect.ValueOf(payload), pt, path); err != nil {
				return nil, err
			}
		} else if payload != nil {
			return nil, fmt.Errorf("%s: %s has no payload on that side", path, typeStr(t))
		}
		if r.IsErr {
			return C.wp_value_new_err(p), nil
		}
		return C.wp_value_new_ok(p), nil
	case C.WP_TYPE_OWN, C.WP_TYPE_BORROW:
		if !v.CanAddr() {
			return nil, mismatch()
		}
		r, ok := v.Addr().Interface().(*Resource)
		if !ok {
			return nil, mismatch()
		}
		c, err := r.clone()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		return c, nil
	case C.WP_TYPE_FLAGS:
		var set []string
		switch {
		case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
			for k := 0; k < v.Len(); k++ {
				set = append(set, v.Index(k).String())
			}
		case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.Bool:
			for _, key := range v.MapKeys() {
				if v.MapIndex(key).Bool() {
					set = append(set, key.String())
				}
			}
		default:
			return nil, mismatch()
		}
		names := make([]*C.char, len(set)+1)
		for k, s := range set {
			idx, ok := caseIndex(t, s)
			if !ok {
				return nil, fmt.Errorf("%s: %s has no flag %q", path, typeStr(t), s)
			}
			names[k] = C.wp_type_get_name(t, C.size_t(idx))
		}
		return C.wp_value_new_flags(&names[0], C.size_t(len(set))), nil
	}
	return nil, fmt.Errorf("%s: %s values are not supported by the Go binding", path, typeStr(t))
}

func caseIndex(t *C.wp_type, name string) (int, bool) {
	n := int(C.wp_type_get_count(t))
	for k := 0; k < n; k++ {
		if C.GoString(C.wp_type_get_name(t, C.size_t(k))) == name {
			return k, true
		}
	}
	return 0, false
}

// encodeItems encodes n children; on error it frees those already made.
// The slice has one spare element so that &items[0] is valid for n == 0.
func encodeItems(n int, one func(int) (*C.wp_value, error)) ([]*C.wp_value, error) {
	items := make([]*C.wp_value, n+1)
	for k := 0; k < n; k++ {
		x, err := one(k)
		if err == nil && x == nil {
			err = fmt.Errorf("out of memory")
		}
		if err != nil {
			for _, p := range items[:k] {
				C.wp_value_free(p)
			}
			return nil, err
		}
		items[k] = x
	}
	return items, nil
}

func asInt(v reflect.Value) (int64, bool) {
	switch {
	case v.CanInt():
		return v.Int(), true
	case v.CanUint():
		if v.Uint() > math.MaxInt64 {
			return 0, false
		}
		return int64(v.Uint()), true
	}
	return 0, false
}

func asUint(v reflect.Value) (uint64, bool) {
	switch {
	case v.CanUint():
		return v.Uint(), true
	case v.CanInt():
		if v.Int() < 0 {
			return 0, false
		}
		return uint64(v.Int()), true
	}
	return 0, false
}

// assign stores the Go form g of a WIT value into dst, a typed Go value.
func assign(dst reflect.Value, g any, path string) error {
	if dst.Kind() == reflect.Interface {
		if g == nil {
			dst.SetZero()
		} else {
			gv := reflect.ValueOf(g)
			if !gv.Type().AssignableTo(dst.Type()) {
				return fmt.Errorf("%s: cannot store %T in %s", path, g, dst.Type())
			}
			dst.Set(gv)
		}
		return nil
	}
	if dst.Kind() == reflect.Pointer {
		if g == nil {
			dst.SetZero()
			return nil
		}
		p := reflect.New(dst.Type().Elem())
		if err := assign(p.Elem(), g, path); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	}
	fail := func() error {
		return &Error{Kind: KindBadInput, Message: fmt.Sprintf("wasmplug: %s: cannot store %T in %s", path, g, dst.Type())}
	}
	if g == nil {
		return fail()
	}
	gv := reflect.ValueOf(g)
	if gv.Type().AssignableTo(dst.Type()) {
		dst.Set(gv)
		return nil
	}
	switch {
	case dst.CanInt():
		n, ok := asInt(gv)
		if !ok || dst.OverflowInt(n) {
			return fail()
		}
		dst.SetInt(n)
	case dst.CanUint():
		n, ok := asUint(gv)
		if !ok || dst.OverflowUint(n) {
			return fail()
		}
		dst.SetUint(n)
	case dst.CanFloat():
		if !gv.CanFloat() {
			return fail()
		}
		dst.SetFloat(gv.Float())
	case dst.Kind() == reflect.String:
		switch x := g.(type) {
		case string:
			dst.SetString(x)
		case rune:
			dst.SetString(string(x))
		default:
			return fail()
		}
	case dst.Kind() == reflect.Slice:
		switch x := g.(type) {
		case []any:
			s := reflect.MakeSlice(dst.Type(), len(x), len(x))
			for k, e := range x {
				if err := assign(s.Index(k), e, fmt.Sprintf("%s[%d]", path, k)); err != nil {
					return err
				}
			}
			dst.Set(s)
		case []byte:
			s := reflect.MakeSlice(dst.Type(), len(x), len(x))
			for k, e := range x {
				if err := assign(s.Index(k), e, fmt.Sprintf("%s[%d]", path, k)); err != nil {
					return err
				}
			}
			dst.Set(s)
		case []string:
			s := reflect.MakeSlice(dst.Type(), len(x), len(x))
			for k, e := range x {
				if err := assign(s.Index(k), e, fmt.Sprintf("%s[%d]", path, k)); err != nil {
					return err
				}
			}
			dst.Set(s)
		default:
			return fail()
		}
	case dst.Kind() == reflect.Struct:
		switch x := g.(type) {
		case map[string]any:
			for name, e := range x {
				f, ok := structField(dst, name)
				if !ok {
					continue
				}
				if err := assign(f, e, path+"."+name); err != nil {
					return err
				}
			}
		case []any:
			if len(x) != dst.NumField() {
				return fail()
			}
			for k, e := range x {
				if err := assign(dst.Field(k), e, fmt.Sprintf("%s.%d", path, k)); err != nil {
					return err
				}
			}
		default:
			return fail()
		}
	case dst.Kind() == reflect.Map && dst.Type().Key().Kind() == reflect.String:
		m := reflect.MakeMap(dst.Type())
		switch x := g.(type) {
		case map[string]any:
			for name, e := range x {
				ev := reflect.New(dst.Type().Elem()).Elem()
				if err := assign(ev, e, path+"."+name); err != nil {
					return err
				}
				m.SetMapIndex(reflect.ValueOf(name).Convert(dst.Type().Key()), ev)
			}
		case []string:
			if dst.Type().Elem().Kind() != reflect.Bool {
				return fail()
			}
			for _, name := range x {
				m.SetMapIndex(reflect.ValueOf(name).Convert(dst.Type().Key()), reflect.ValueOf(true))
			}
		default:
			return fail()
		}
		dst.Set(m)
	default:
		return fail()
	}
	return nil
}
