package ucwa

import "slices"

// PutSentinel is the value of the randomly named property every PUT-able
// resource carries; clients must send that property back on PUT. Real
// clients search for this exact text (the docs' prose variant "please pass
// me…" is not what servers send).
const PutSentinel = "please pass this in a PUT request"

// Link is a web link. Rel is the relation (the resource type), Href the
// target; Title and Revision are optional and omitted when empty.
type Link struct {
	Rel, Href, Title, Revision string
}

// LinkGroup is every link of one rel, in insertion order. Array tells
// whether the rel is multi-valued: such a rel is always a JSON array, even
// with zero or one element. A single-valued group holds exactly one link.
type LinkGroup struct {
	Rel   string
	Array bool
	Links []Link
}

// EmbedGroup is every resource embedded under one link rel. Array has the
// same meaning as in LinkGroup; an empty array group is still written as []
// in JSON because clients index embedded collections without checking.
type EmbedGroup struct {
	Rel       string
	Array     bool
	Resources []*Resource
}

// Resource is one UCWA resource: its type (Rel), its self link (Href), and
// ordered properties, links and embedded resources. Output follows insertion
// order so that it is deterministic. The zero Resource is ready to use. Use
// it through a pointer: a copy shares its contents. Concurrent reads and
// encodings are safe; concurrent modification is not.
type Resource struct {
	Rel  string // the resource type, written as the "rel" property
	Href string // the self link; empty means no self link

	props []Property
	// propIndex maps names to positions once there are many properties, so
	// that echoing a large client body stays linear. It is only a hint,
	// checked on use, so a Resource copied by value cannot be misled by it.
	propIndex map[string]int
	links     []LinkGroup
	embedded  []EmbedGroup
}

// indexFrom is the property count from which Set keeps propIndex; below
// it a scan is cheaper than a map.
const indexFrom = 32

// New returns a resource of type rel whose self link is href.
func New(rel, href string) *Resource { return &Resource{Rel: rel, Href: href} }

// Set sets the property name to v, in place if it exists (so its position is
// kept), else at the end. The name "rel" sets r.Rel to v.Text(), because the
// wire format carries the type as that property. The names "_links" and
// "_embedded" cannot be properties: Set panics on them, as such a call is a
// programming error.
func (r *Resource) Set(name string, v Value) *Resource {
	switch name {
	case "rel":
		r.Rel = v.Text()
		return r
	case "_links", "_embedded":
		panic("ucwa: Set called with reserved name " + name)
	}
	r.setProp(name, v)
	return r
}

// setProp is Set without the special names, for decoders, which must take
// whatever a peer sends without panicking.
func (r *Resource) setProp(name string, v Value) {
	if i := r.propPos(name); i >= 0 {
		r.props[i].Value = v
		return
	}
	r.props = append(r.props, Property{Name: name, Value: v})
	switch {
	case len(r.props) < indexFrom:
	case r.propIndex == nil || len(r.propIndex) != len(r.props)-1:
		r.propIndex = make(map[string]int, 2*len(r.props))
		for i, p := range r.props {
			r.propIndex[p.Name] = i
		}
	default:
		r.propIndex[name] = len(r.props) - 1
	}
}

// propPos returns the position of the property name, or -1. It does not
// modify r, so that concurrent readers are safe.
func (r *Resource) propPos(name string) int {
	if r.propIndex != nil && len(r.propIndex) == len(r.props) {
		i, ok := r.propIndex[name]
		if !ok {
			return -1
		}
		if i < len(r.props) && r.props[i].Name == name {
			return i
		}
	}
	for i := range r.props {
		if r.props[i].Name == name {
			return i
		}
	}
	return -1
}

// Get returns the property name, matched exactly.
func (r *Resource) Get(name string) (Value, bool) {
	if i := r.propPos(name); i >= 0 {
		return r.props[i].Value, true
	}
	return Value{}, false
}

// Delete removes the property name, if any.
func (r *Resource) Delete(name string) {
	if i := r.propPos(name); i >= 0 {
		r.props = slices.Delete(r.props, i, i+1)
		r.propIndex = nil // positions moved
	}
}

// Props returns a copy of the properties in order. The rel is not among them.
func (r *Resource) Props() []Property { return slices.Clone(r.props) }

// Link sets a single-valued link rel → href, replacing any link of that rel.
// The rel "self" sets r.Href.
func (r *Resource) Link(rel, href string) *Resource {
	return r.AddLink(Link{Rel: rel, Href: href})
}

// AddLink sets the single-valued link l (with its title and revision),
// replacing any link of the same rel in place. The rel "self" sets r.Href;
// a self link has no title or revision on the wire.
func (r *Resource) AddLink(l Link) *Resource {
	if l.Rel == "self" {
		r.Href = l.Href
		return r
	}
	r.setLinks(LinkGroup{Rel: l.Rel, Links: []Link{l}})
	return r
}

// LinkArray sets the multi-valued link rel to ls, replacing any link of that
// rel. The Rel field of each element is overwritten with rel. The rel is
// written as an array in JSON even when ls has zero or one element. The rel
// "self" cannot be multi-valued: LinkArray("self", ls) sets r.Href from the
// first element, or clears it.
func (r *Resource) LinkArray(rel string, ls []Link) *Resource {
	if rel == "self" {
		r.Href = ""
		if len(ls) > 0 {
			r.Href = ls[0].Href
		}
		return r
	}
	g := LinkGroup{Rel: rel, Array: true, Links: make([]Link, len(ls))}
	for i, l := range ls {
		l.Rel = rel
		g.Links[i] = l
	}
	r.setLinks(g)
	return r
}

func (r *Resource) setLinks(g LinkGroup) {
	for i := range r.links {
		if r.links[i].Rel == g.Rel {
			r.links[i] = g
			return
		}
	}
	r.links = append(r.links, g)
}

// DeleteLink removes every link of rel (rel "self" clears r.Href).
func (r *Resource) DeleteLink(rel string) {
	if rel == "self" {
		r.Href = ""
		return
	}
	r.links = slices.DeleteFunc(r.links, func(g LinkGroup) bool { return g.Rel == rel })
}

// Links returns a copy of the link groups in insertion order. The self link
// is not among them: it is r.Href.
func (r *Resource) Links() []LinkGroup {
	out := slices.Clone(r.links)
	for i := range out {
		out[i].Links = slices.Clone(out[i].Links)
	}
	return out
}

// FindLink returns the first link with that rel. For "self" it returns
// r.Href, and reports false when Href is empty.
func (r *Resource) FindLink(rel string) (Link, bool) {
	if rel == "self" {
		return Link{Rel: "self", Href: r.Href}, r.Href != ""
	}
	for _, g := range r.links {
		if g.Rel == rel && len(g.Links) > 0 {
			return g.Links[0], true
		}
	}
	return Link{}, false
}

// Embed embeds e under the single-valued link rel rel, replacing anything
// embedded under that rel. The key (rel) may differ from e.Rel, as in
// _embedded.from holding a participant. A nil e removes the rel.
func (r *Resource) Embed(rel string, e *Resource) *Resource {
	if e == nil {
		r.deleteEmbedded(rel)
		return r
	}
	r.setEmbedded(EmbedGroup{Rel: rel, Resources: []*Resource{e}})
	return r
}

// EmbedArray embeds es under the multi-valued link rel rel, replacing
// anything embedded under that rel. Nil elements are dropped. An empty es is
// still written as [] in JSON.
func (r *Resource) EmbedArray(rel string, es []*Resource) *Resource {
	g := EmbedGroup{Rel: rel, Array: true, Resources: make([]*Resource, 0, len(es))}
	for _, e := range es {
		if e != nil {
			g.Resources = append(g.Resources, e)
		}
	}
	r.setEmbedded(g)
	return r
}

func (r *Resource) setEmbedded(g EmbedGroup) {
	for i := range r.embedded {
		if r.embedded[i].Rel == g.Rel {
			r.embedded[i] = g
			return
		}
	}
	r.embedded = append(r.embedded, g)
}

func (r *Resource) deleteEmbedded(rel string) {
	r.embedded = slices.DeleteFunc(r.embedded, func(g EmbedGroup) bool { return g.Rel == rel })
}

// Embedded returns a copy of the embed groups in insertion order. The
// resources themselves are shared, not copied.
func (r *Resource) Embedded() []EmbedGroup {
	out := slices.Clone(r.embedded)
	for i := range out {
		out[i].Resources = slices.Clone(out[i].Resources)
	}
	return out
}

// FindEmbedded returns the resources embedded under rel, or nil.
func (r *Resource) FindEmbedded(rel string) []*Resource {
	for _, g := range r.embedded {
		if g.Rel == rel {
			return slices.Clone(g.Resources)
		}
	}
	return nil
}
