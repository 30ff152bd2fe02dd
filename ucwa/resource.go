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
// order so that it is deterministic. The zero Resource is ready to use; a
// Resource is not safe for concurrent modification.
type Resource struct {
	Rel  string // the resource type, written as the "rel" property
	Href string // the self link; empty means no self link

	props    []Property
	links    []LinkGroup
	embedded []EmbedGroup
}

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
	for i := range r.props {
		if r.props[i].Name == name {
			r.props[i].Value = v
			return r
		}
	}
	r.props = append(r.props, Property{Name: name, Value: v})
	return r
}

// Get returns the property name, matched exactly.
func (r *Resource) Get(name string) (Value, bool) {
	for _, p := range r.props {
		if p.Name == name {
			return p.Value, true
		}
	}
	return Value{}, false
}

// Delete removes the property name, if any.
func (r *Resource) Delete(name string) {
	r.props = slices.DeleteFunc(r.props, func(p Property) bool { return p.Name == name })
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
