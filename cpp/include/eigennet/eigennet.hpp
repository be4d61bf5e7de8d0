// Umbrella header for programs that embed eigennet.
#pragma once

#include "eigennet/activation.hpp"
#include "eigennet/errors.hpp"
#include "eigennet/finite.hpp"
#include "eigennet/init.hpp"
#include "eigennet/json.hpp"
#include "eigennet/layer.hpp"
#include "eigennet/loss.hpp"
#include "eigennet/network.hpp"
#include "eigennet/rng.hpp"
#include "eigennet/serialize.hpp"
#include "eigennet/threads.hpp"
#include "eigennet/types.hpp"
#include "eigennet/updater.hpp"
