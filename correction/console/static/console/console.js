/* The console's own script: maps of our data on a plain background (tiles only when configured). */
"use strict";

function drawMap(element) {
  var points = JSON.parse(element.dataset.points || "[]");
  var map = L.map(element, {attributionControl: false, zoomSnap: 0.5});
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, {maxZoom: 19}).addTo(map);
  }
  L.control.scale({imperial: false}).addTo(map);
  var bounds = [];
  points.forEach(function (p) {
    var here = [p.lat, p.lon];
    if (p.accuracy_m) {
      L.circle(here, {radius: p.accuracy_m, weight: 1, className: "accuracy"}).addTo(map);
      bounds.push(L.latLng(here).toBounds(p.accuracy_m * 2));
    }
    L.circleMarker(here, {radius: 5, weight: 2, className: "fix"}).addTo(map);
    bounds.push(L.latLngBounds([here, here]));
  });
  if (bounds.length) {
    var all = bounds[0];
    bounds.forEach(function (b) { all.extend(b); });
    map.fitBounds(all.pad(0.5), {maxZoom: 17});
  }
  element.dataset.drawn = String(points.length);
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".map[data-points]").forEach(drawMap);
});
