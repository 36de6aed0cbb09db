package wasmplug

/*
#include "wpgo.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// ResourceType is a resource type the host implements for components
// (DefineResource). Its constructor and methods are component host
// functions named "[constructor]NAME", "[method]NAME.METHOD"...
type ResourceType struct {
	ptr         *C.wp_resource_type
	iface, name string
}

// Resource is a resource handle in a component value: a host object made
// with NewResource, or a plugin's resource returned by an export. It appears
// wherever a WIT own<T> or borrow<T> does. A Resource that a host function
// receives as an argument is valid only during that call. Close forgets the
// handle (it does not drop the object: see Instance.DropResource).
type Resource struct {
	closeOnce
	mu       sync.Mutex
	v        *C.wp_value
	borrowed bool // an argument of a host call: not ours to free
	cleanup  runtime.Cleanup
}

type resourceDrop struct{ drop func(object any) }

// DefineResource defines resource `name` of interface `iface` for components
// that import it. drop (may be nil) runs once per object when the plugin
// drops its last owning handle or the instance holding it goes.
func (e *Engine) DefineResource(iface, name string, drop func(object any)) (*ResourceType, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	// The engine keeps this id as long as it lives and releases it when it
	// goes (free_tramp).
	id := register(&resourceDrop{drop: drop})
	var ci *C.char
	if iface != "" {
		ci = cstr(iface)
		defer cfree(ci)
	}
	n := cstr(name)
	defer cfree(n)
	rt := &ResourceType{iface: iface, name: name}
	err := takeError(C.wpgo_define_resource(e.ptr, ci, n, C.uintptr_t(id), &rt.ptr))
	runtime.KeepAlive(e)
	if err != nil {
		unregister(id)
		return nil, err
	}
	return rt, nil
}

// Name is the resource type's name.
func (rt *ResourceType) Name() string { return rt.name }

//export wpgoResourceDrop
func wpgoResourceDrop(object C.uintptr_t, id C.uintptr_t) {
	obj := lookup(uintptr(object))
	unregister(uintptr(object))
	d, _ := lookup(uintptr(id)).(*resourceDrop)
	if d == nil || d.drop == nil {
		return
	}
	defer func() { _ = recover() }()
	d.drop(obj)
}

func newResource(inst *C.wp_instance, rt *ResourceType, obj any) (*Resource, error) {
	if rt == nil || rt.ptr == nil {
		return nil, errorf(KindBadInput, "wasmplug: NewResource: nil resource type")
	}
	id := register(obj)
	v := C.wpgo_new_resource(inst, rt.ptr, C.uintptr_t(id))
	if v == nil {
		unregister(id)
		return nil, errorf(KindBadInput, "wasmplug: cannot make a %s handle for this instance (not a component that imports it, or out of memory)", rt.name)
	}
	return ownedResource(v), nil
}

func ownedResource(v *C.wp_value) *Resource {
	r := &Resource{v: v}
	r.cleanup = runtime.AddCleanup(r, func(v *C.wp_value) { C.wp_value_free(v) }, v)
	return r
}

// NewResource makes a handle to the host object obj, of host resource type
// rt, for the plugin running in this instance: pass it to an export taking
// own<T> (the plugin then owns obj) or borrow<T> (lent for the call).
func (i *Instance) NewResource(rt *ResourceType, obj any) (*Resource, error) {
	if err := i.check(); err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(i)
	return newResource(i.ptr, rt, obj)
}

// NewResource makes a handle to obj for the plugin making this call: return
// it from a constructor (or any function returning own<T>).
func (c *HostCall) NewResource(rt *ResourceType, obj any) (*Resource, error) {
	return newResource(C.wp_host_call_get_instance(c.ptr), rt, obj)
}

// Object is the host object behind r, a handle of host resource type rt
// (typically a method's self argument). KindBadInput if r is not a live
// handle of that type.
func (c *HostCall) Object(rt *ResourceType, r *Resource) (any, error) {
	return resourceObject(C.wp_host_call_get_instance(c.ptr), rt, r)
}

// Object is the host object behind r, a handle of host resource type rt
// held for this instance.
func (i *Instance) Object(rt *ResourceType, r *Resource) (any, error) {
	if err := i.check(); err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(i)
	return resourceObject(i.ptr, rt, r)
}

func resourceObject(inst *C.wp_instance, rt *ResourceType, r *Resource) (any, error) {
	if r == nil || rt == nil {
		return nil, errorf(KindBadInput, "wasmplug: Object: nil resource or type")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.v == nil {
		return nil, errClosed("resource")
	}
	var id C.uintptr_t
	if err := takeError(C.wpgo_get_resource(r.v, inst, rt.ptr, &id)); err != nil {
		return nil, err
	}
	return lookup(uintptr(id)), nil
}

// DropResource drops an owning handle that the plugin made (say, returned by
// its "[constructor]blob"): the plugin's destructor runs. r stays open but no
// longer refers to anything.
func (i *Instance) DropResource(r *Resource) error {
	if err := i.check(); err != nil {
		return err
	}
	defer runtime.KeepAlive(i)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.v == nil {
		return errClosed("resource")
	}
	return takeError(C.wp_instance_drop_resource(i.ptr, r.v))
}

// Close forgets the handle (a second Close does nothing). It does not drop
// the object: a host object stays the instance's until the plugin drops it
// or the instance goes.
func (r *Resource) Close() error {
	if r.borrowed || !r.begin() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanup.Stop()
	C.wp_value_free(r.v)
	r.v = nil
	return nil
}

func (r *Resource) String() string { return fmt.Sprintf("resource(%p)", unsafe.Pointer(r.v)) }

// clone is a copy of the handle for a call's argument or result.
func (r *Resource) clone() (*C.wp_value, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.v == nil {
		return nil, fmt.Errorf("the resource is closed")
	}
	return C.wp_value_clone(r.v), nil
}
