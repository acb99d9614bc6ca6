/* The console's maps: our own data on a plain background, with a scale bar and a labelled graticule.
 *
 * Offices run on closed networks, so there are no tiles unless the deployment names its own
 * tile server (MAP_TILE_URL, passed as "tiles"). Every map reads one JSON object from its
 * data-map attribute: {tiles, fixes, zones, stations, events}. A map with data-draw="<form id>"
 * also lets the officer draw a polygon or a circle and writes it into that form as GeoJSON.
 */
"use strict";

(function () {
  var GRATICULE_STEPS = [30, 20, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001,
                         0.0005, 0.0002, 0.0001];
  var DEFAULT_VIEW = {centre: [35, 105], zoom: 4};  // China, when there is nothing to show
  var LABEL_SIZE = [72, 14];  // a graticule label's box, in pixels

  /* The graticule's spacing for a view spanning `span` degrees: the largest step with 3 lines or more. */
  function graticuleStep(span) {
    for (var i = 0; i < GRATICULE_STEPS.length; i++) {
      if (span / GRATICULE_STEPS[i] >= 3) { return GRATICULE_STEPS[i]; }
    }
    return GRATICULE_STEPS[GRATICULE_STEPS.length - 1];
  }

  function decimals(step) {
    var places = 0;
    while (places < 6 && Math.abs(Math.round(step * Math.pow(10, places)) - step * Math.pow(10, places)) > 1e-9) {
      places++;
    }
    return places;
  }

  function degrees(value, step, positive, negative) {
    var hemisphere = value > 0 ? positive : value < 0 ? negative : "";
    return Math.abs(value).toFixed(decimals(step)) + "°" + hemisphere;
  }

  function textElement(text) {
    var span = document.createElement("span");
    span.textContent = text;  // names come from data: never parsed as HTML
    return span;
  }

  /* Lines of latitude and longitude at a spacing that follows the zoom, labelled at the view's edges. */
  var Graticule = L.Layer.extend({
    onAdd: function (map) {
      if (!map.getPane("graticule")) { map.createPane("graticule"); }
      this._renderer = L.svg({pane: "graticule", padding: 0});
      this._group = L.layerGroup().addTo(map);
      map.on("moveend", this._redraw, this);
      this._redraw();
    },
    onRemove: function (map) {
      map.off("moveend", this._redraw, this);
      map.removeLayer(this._group);
    },
    _line: function (points) {
      L.polyline(points, {renderer: this._renderer, interactive: false, weight: 1, className: "graticule-line"})
        .addTo(this._group);
    },
    /* Latitudes are labelled at the right edge, longitudes at the top: clear of the zoom and scale controls. */
    _label: function (at, text, kind) {
      var anchor = kind === "lat" ? [LABEL_SIZE[0] + 3, LABEL_SIZE[1]] : [-3, 0];
      L.marker(at, {pane: "graticule", interactive: false, keyboard: false,
                    icon: L.divIcon({className: "graticule-label " + kind, html: textElement(text),
                                     iconSize: LABEL_SIZE, iconAnchor: anchor})})
        .addTo(this._group);
    },
    _redraw: function () {
      var bounds = this._map.getBounds();
      var south = Math.max(bounds.getSouth(), -85), north = Math.min(bounds.getNorth(), 85);
      var west = bounds.getWest(), east = bounds.getEast();
      var step = graticuleStep(Math.min(north - south, east - west));
      var value, k;
      this._group.clearLayers();
      for (k = Math.ceil(south / step); k * step <= north; k++) {
        value = +(k * step).toFixed(6);
        this._line([[value, west], [value, east]]);
        this._label([value, east], degrees(value, step, "N", "S"), "lat");
      }
      for (k = Math.ceil(west / step); k * step <= east; k++) {
        value = +(k * step).toFixed(6);
        this._line([[south, value], [north, value]]);
        this._label([north, value], degrees(value, step, "E", "W"), "lon");
      }
      this._map.getContainer().dataset.graticuleStep = String(step);
      this._map.getContainer().dataset.zoom = String(this._map.getZoom());
    }
  });

  function drawZone(zone, layer) {
    var options = {weight: 2, className: "zone " + zone.kind};
    var geometry = zone.geometry, shape, centre;
    if (geometry.type === "Circle") {
      centre = L.latLng(geometry.center[1], geometry.center[0]);
      shape = L.circle(centre, L.extend({radius: geometry.radius_m}, options));
    } else {
      shape = L.geoJSON(geometry, {style: function () { return options; }});
    }
    shape.bindTooltip(textElement(zone.name)).addTo(layer);
    // a circle measures its bounds only once the map has a view: compute them here
    return centre ? centre.toBounds(geometry.radius_m * 2) : shape.getBounds();
  }

  /* Draw the data; the bounds to show first: the day's fixes and events if any, else everything. */
  function drawData(map, data) {
    var bounds = [], focus = [];
    var layer = L.featureGroup().addTo(map);
    (data.zones || []).forEach(function (zone) { bounds.push(drawZone(zone, layer)); });
    (data.stations || []).forEach(function (s) {
      L.circle([s.lat, s.lon], {radius: s.radius_m, weight: 1, className: "station-radius"}).addTo(layer);
      L.circleMarker([s.lat, s.lon], {radius: 6, weight: 2, className: "station"})
        .bindTooltip(textElement(s.name)).addTo(layer);
      bounds.push(L.latLng(s.lat, s.lon).toBounds(s.radius_m * 2));
    });
    var fixes = data.fixes || [];
    if (fixes.length > 1) {
      L.polyline(fixes.map(function (f) { return [f.lat, f.lon]; }), {weight: 2, className: "track-path"}).addTo(layer);
    }
    fixes.forEach(function (f) {
      var here = [f.lat, f.lon];
      if (f.accuracy_m) {
        L.circle(here, {radius: f.accuracy_m, weight: 1, className: "accuracy"}).addTo(layer);
        focus.push(L.latLng(here).toBounds(f.accuracy_m * 2));
      }
      var marker = L.circleMarker(here, {radius: 5, weight: 2, className: f.mock ? "fix mock" : "fix"}).addTo(layer);
      if (f.time) { marker.bindTooltip(textElement(f.time)); }
      focus.push(L.latLngBounds([here, here]));
    });
    (data.events || []).forEach(function (e) {
      L.circleMarker([e.lat, e.lon], {radius: 8, weight: 3, className: "zone-event"})
        .bindTooltip(textElement(e.label)).addTo(layer);
      focus.push(L.latLngBounds([[e.lat, e.lon], [e.lat, e.lon]]));
    });
    return focus.length ? focus : bounds;
  }

  function fit(map, bounds) {
    if (!bounds.length) {
      map.setView(DEFAULT_VIEW.centre, DEFAULT_VIEW.zoom);
      return;
    }
    var all = L.latLngBounds(bounds[0].getSouthWest(), bounds[0].getNorthEast());
    bounds.forEach(function (b) { all.extend(b); });
    map.fitBounds(all.pad(0.2), {maxZoom: 17});
  }

  function round(value) { return Math.round(value * 1e7) / 1e7; }

  /* Draw a polygon (click the corners, then finish) or a circle (centre, then edge or radius) into `form`. */
  function drawTool(map, element, form) {
    var geometry = form.elements.geometry, radius = form.elements.radius_m;
    var save = form.querySelector("[type=submit]");
    var finish = document.querySelector("[data-draw-action=finish]");
    var help = document.getElementById("draw-help");
    var sketch = L.layerGroup().addTo(map);
    var mode = null, corners = [], centre = null;

    function reset(newMode) {
      mode = newMode;
      corners = [];
      centre = null;
      sketch.clearLayers();
      geometry.value = "";
      radius.value = "";
      radius.disabled = true;
      save.disabled = true;
      finish.disabled = true;
      element.dataset.drawMode = mode || "";
      if (mode) {
        map.doubleClickZoom.disable();
        help.textContent = help.dataset[mode === "polygon" ? "helpPolygon" : "helpCircle"];
      }
    }

    function showPolygon(closed) {
      sketch.clearLayers();
      var options = {weight: 2, className: closed ? "drawing" : "drawing open"};
      (closed ? L.polygon(corners, options) : L.polyline(corners, options)).addTo(sketch);
      corners.forEach(function (c) { L.circleMarker(c, {radius: 4, className: "vertex"}).addTo(sketch); });
      finish.disabled = closed || corners.length < 3;
    }

    function showCircle() {
      sketch.clearLayers();
      L.circleMarker(centre, {radius: 4, className: "vertex"}).addTo(sketch);
      var metres = parseFloat(radius.value);
      if (metres > 0) {
        L.circle(centre, {radius: metres, weight: 2, className: "drawing"}).addTo(sketch);
        geometry.value = JSON.stringify({type: "Circle", center: [round(centre.lng), round(centre.lat)],
                                         radius_m: metres});
      }
      save.disabled = !(metres > 0);
    }

    map.on("click", function (event) {
      if (mode === "polygon") {
        corners.push(event.latlng);
        showPolygon(false);
      } else if (mode === "circle") {
        if (!centre) {
          centre = event.latlng;
          radius.disabled = false;
        } else {
          radius.value = String(Math.max(1, Math.round(map.distance(centre, event.latlng))));
        }
        showCircle();
      }
    });
    radius.addEventListener("input", function () { if (centre) { showCircle(); } });
    document.querySelectorAll("[data-draw-mode]").forEach(function (button) {
      button.addEventListener("click", function () { reset(button.dataset.drawMode); });
    });
    document.querySelector("[data-draw-action=clear]").addEventListener("click", function () { reset(null); });
    finish.addEventListener("click", function () {
      if (corners.length < 3) { return; }
      var ring = corners.map(function (c) { return [round(c.lng), round(c.lat)]; });
      ring.push(ring[0]);
      geometry.value = JSON.stringify({type: "Polygon", coordinates: [ring]});
      showPolygon(true);
      mode = null;
      element.dataset.drawMode = "";
      save.disabled = false;
    });
  }

  function createMap(element) {
    var data = JSON.parse(element.dataset.map || "{}");
    var map = L.map(element, {attributionControl: false, zoomSnap: 0.5});
    if (data.tiles) {
      L.tileLayer(data.tiles, {maxZoom: 19}).addTo(map);
    }
    L.control.scale({imperial: false}).addTo(map);
    fit(map, drawData(map, data));
    new Graticule().addTo(map);
    if (element.dataset.draw) {
      drawTool(map, element, document.getElementById(element.dataset.draw));
    }
    element.dataset.drawn = String((data.fixes || []).length);
    return map;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".map[data-map]").forEach(createMap);
  });
})();
