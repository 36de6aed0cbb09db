package wasmplug

/*
#include "wpgo.h"
*/
import "C"

import (
	"runtime"
	"sync"
)

// Pool supplies instances of one plugin, fresh per call or reused. Safe for
// concurrent use: each goroutine Takes its own instance and Closes it (or
// calls Release) when done.
type Pool struct {
	closeOnce
	ptr     *C.wp_pool
	plugin  *Plugin
	mu      sync.Mutex
	taken   int
	cleanup runtime.Cleanup
}

// NewPool makes a pool. Each instance serves at most maxUses takes (1: a
// fresh instance for every call; 0: no limit) and at most maxIdle wait idle.
// An instance whose call failed is never handed out again.
func (p *Plugin) NewPool(maxUses, maxIdle uint32) (*Pool, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	var out *C.wp_pool
	err := takeError(C.wp_pool_new(p.ptr, C.uint32_t(maxUses), C.uint32_t(maxIdle), &out))
	runtime.KeepAlive(p)
	if err != nil {
		return nil, err
	}
	pool := &Pool{ptr: out, plugin: p}
	pool.cleanup = runtime.AddCleanup(pool, func(ptr *C.wp_pool) { C.wp_pool_free(ptr) }, out)
	return pool, nil
}

// Take hands out an instance; give it back with Release (or its Close).
func (p *Pool) Take() (*Instance, error) {
	p.mu.Lock()
	if p.isClosed() {
		p.mu.Unlock()
		return nil, errClosed("pool")
	}
	p.taken++
	p.mu.Unlock()
	var out *C.wp_instance
	if err := takeError(C.wp_pool_take(p.ptr, &out)); err != nil {
		p.mu.Lock()
		p.taken--
		p.mu.Unlock()
		return nil, err
	}
	i := &Instance{ptr: out, plugin: p.plugin, pool: p, scratch: newScratch()}
	// A taken instance that is dropped without Close goes back to the pool.
	i.cleanup = runtime.AddCleanup(i, freeInstance, instRes{out, i.scratch, p})
	return i, nil
}

// Release gives an instance back (as its Close does).
func (p *Pool) Release(i *Instance) error {
	if i.pool != p {
		return errorf(KindBadInput, "wasmplug: instance does not belong to this pool")
	}
	return i.Close()
}

func (p *Pool) release(inst *C.wp_instance) {
	C.wp_pool_release(p.ptr, inst)
	p.mu.Lock()
	p.taken--
	p.mu.Unlock()
}

// Do takes an instance, runs fn with it and gives it back.
func (p *Pool) Do(fn func(*Instance) error) error {
	i, err := p.Take()
	if err != nil {
		return err
	}
	defer i.Close()
	return fn(i)
}

// Idle is how many instances wait idle in the pool.
func (p *Pool) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isClosed() {
		return 0
	}
	return int(C.wp_pool_get_idle(p.ptr))
}

// Close frees the pool and its idle instances. Every taken instance must be
// given back first, else Close fails with KindBadInput and does nothing. A
// second Close does nothing.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isClosed() {
		return nil
	}
	if p.taken > 0 {
		return errorf(KindBadInput, "wasmplug: pool of %q still has %d taken instances: close them first",
			p.plugin.name, p.taken)
	}
	p.begin()
	p.cleanup.Stop()
	C.wp_pool_free(p.ptr)
	return nil
}
